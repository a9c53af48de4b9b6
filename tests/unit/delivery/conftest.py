"""Shared builders for delivery tests: alerts written for the tests, in our own words."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream.models import Alert, Article, Evidence, Match

# ``tests.support`` lives under the repository root, which pytest does not put on sys.path.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

AlertFactory = Callable[..., Alert]

BODY = (
    "Officials in Yerevan confirmed the delegation would stay home from the bloc's summit, "
    "a further sign of cooling ties with the CSTO."
)


def build_alert(**overrides: Any) -> Alert:
    article = Article(
        id=overrides.pop("article_id", "art-1"),
        title=overrides.pop("headline", "Armenia stays away from the CSTO summit"),
        body=BODY,
        url=overrides.pop("url", "https://news.example.org/armenia-csto"),
        source=overrides.pop("source", "example-wire"),
    )
    match = Match(
        rule_id=overrides.pop("rule_id", "alliances.csto.summit_skip"),
        rule_name=overrides.pop("rule_name", "CSTO member skips a summit"),
        rule_version="v1",
        severity=overrides.pop("severity", "high"),
        entity=overrides.pop("entity", "Armenia"),
        tags=overrides.pop("tags", ("csto", "alliances")),
        title=overrides.pop("title", "Armenia skips the CSTO summit"),
        evidence=overrides.pop(
            "evidence",
            (
                Evidence(
                    field="body",
                    term="CSTO",
                    text="CSTO",
                    start=120,
                    end=124,
                    snippet="a further sign of cooling ties with the CSTO.",
                ),
            ),
        ),
    )
    alert = Alert.from_match(match, article, now=datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    return alert.model_copy(update=overrides) if overrides else alert


@pytest.fixture
def make_alert() -> AlertFactory:
    return build_alert
