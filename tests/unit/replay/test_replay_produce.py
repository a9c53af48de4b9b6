"""Loading articles for a replay: records can carry each article's publication time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stream.models import Article
from stream.produce import record_timestamp

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "mode", "expected"),
    [
        (NOON, "published", int(NOON.timestamp() * 1000)),
        (NOON.replace(tzinfo=None), "published", int(NOON.timestamp() * 1000)),  # naive: UTC
        (NOON, "now", None),
        (None, "published", None),  # no publication time: stamped at loading
    ],
)
def test_record_timestamp(published: datetime | None, mode: str, expected: int | None) -> None:
    article = Article(id="a", title="t", body="b", published_at=published)
    assert record_timestamp(article, mode) == expected  # type: ignore[arg-type]
