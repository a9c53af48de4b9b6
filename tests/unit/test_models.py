"""Wire models: deterministic alert ids, frozen values, JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from stream.models import Alert, Article, Match, alert_id, severity_rank

ARTICLE = Article(id="a1", title="Title", body="Body", source="Wire")
MATCH = Match(
    rule_id="r1", rule_name="Rule one", rule_version="abc", severity="high",
    entity="Armenia", title="Armenia skips", tags=("csto",),
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("r1", "Armenia", "a1"), ("r1", "Armenia", "a1"), True),
        (("r1", "Armenia", "a1"), ("r2", "Armenia", "a1"), False),
        (("r1", "Armenia", "a1"), ("r1", "Belarus", "a1"), False),
        (("r1", "Armenia", "a1"), ("r1", "Armenia", "a2"), False),
        (("r1", None, "a1"), ("r1", "", "a1"), True),
    ],
)
def test_alert_id_is_deterministic(
    a: tuple[str, str | None, str], b: tuple[str, str | None, str], same: bool
) -> None:
    assert (alert_id(*a) == alert_id(*b)) is same


def test_alert_from_match_round_trips_through_json() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    alert = Alert.from_match(MATCH, ARTICLE, now=now)
    assert alert.id == alert_id("r1", "Armenia", "a1") == alert.thread_id
    assert alert.article.id == "a1" and alert.entity == "Armenia"
    assert Alert.model_validate_json(alert.model_dump_json()) == alert


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        ARTICLE.title = "changed"  # type: ignore[misc]


def test_severity_order() -> None:
    assert severity_rank("info") < severity_rank("medium") < severity_rank("critical")
