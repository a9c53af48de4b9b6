"""Parsing replay ranges at the edge: times, offsets, and which starts combine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stream.errors import ConfigError
from stream.replay import SourceRecord, TopicRange, parse_offsets, parse_time

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T08:30:00Z", datetime(2026, 3, 2, 8, 30, tzinfo=UTC)),
        ("2026-03-02T08:30:00+02:00", datetime(2026, 3, 2, 6, 30, tzinfo=UTC)),
        ("2026-03-02T08:30:00", datetime(2026, 3, 2, 8, 30, tzinfo=UTC)),  # naive is UTC
        ("2026-03-02", datetime(2026, 3, 2, tzinfo=UTC)),
        ("7d", datetime(2026, 3, 3, 12, 0, tzinfo=UTC)),
        ("36h", datetime(2026, 3, 9, 0, 0, tzinfo=UTC)),
        ("90m", datetime(2026, 3, 10, 10, 30, tzinfo=UTC)),
        ("1.5h", datetime(2026, 3, 10, 10, 30, tzinfo=UTC)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "7 weeks", "2026-13-01", "d"])
def test_bad_times_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ConfigError, match="7d"):
        parse_time(text, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0:120", {0: 120}), ("0:120,2:7", {0: 120, 2: 7}), (" 1:0 , 3:5 ,", {1: 0, 3: 5})],
)
def test_offsets(text: str, expected: dict[int, int]) -> None:
    assert parse_offsets(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "PARTITION:OFFSET"), ("a:1", "PARTITION:OFFSET"), ("0:-1", "PARTITION:OFFSET"),
     ("0:1,0:2", "given twice"), (",", "no offsets")],
)
def test_bad_offsets(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_offsets(text)


def test_one_start_only_and_until_after_since() -> None:
    with pytest.raises(ValueError, match="choose one start"):
        TopicRange(from_beginning=True, offsets={0: 1})
    with pytest.raises(ValueError, match="later than --since"):
        TopicRange(since=NOW, until=NOW)
    span = TopicRange(since=NOW, until=datetime(2026, 3, 11, tzinfo=UTC))
    assert span.since_ms == int(NOW.timestamp() * 1000)
    assert span.describe() == "since 2026-03-10T12:00:00+00:00 until 2026-03-11T00:00:00+00:00"
    assert TopicRange(offsets={2: 7, 0: 1}).describe() == "offsets 0:1,2:7 to the end"
    assert TopicRange().describe() == "from the beginning to the end"


def test_records_say_where_they_came_from() -> None:
    assert SourceRecord(2, 41, 0, b"").where == "p2@41"
    assert SourceRecord(None, 41, None, b"").where == "line 41"
    assert SourceRecord(None, 1, None, b"").moment is None
    assert SourceRecord(0, 1, -1, b"").moment is None
    assert SourceRecord(0, 1, 1_000, b"").moment == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
