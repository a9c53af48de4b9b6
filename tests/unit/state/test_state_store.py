"""TTLStore: expiry at the exact instant, sweeps, and JSON-only values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from stream.state.store import TTLStore, epoch


@pytest.mark.parametrize(
    ("read_at", "visible"),
    [(99.0, True), (99.999, True), (100.0, False), (150.0, False)],
)
def test_entry_is_gone_at_its_expiry(read_at: float, visible: bool) -> None:
    store = TTLStore({})
    store.put("k", {"n": 1}, expires=100.0)
    assert (store.get("k", read_at) == {"n": 1}) is visible


def test_sweep_deletes_only_expired_entries_of_ours() -> None:
    raw: dict[str, object] = {"foreign": {"x": 1}, "other": [True, 2], "text": "a"}
    store = TTLStore(raw)
    store.put("old", 1, expires=10.0)
    store.put("edge", 2, expires=20.0)
    store.put("young", 3, expires=30.0)
    assert store.sweep(20.0) == 2
    assert sorted(raw) == ["foreign", "other", "text", "young"]
    assert store.sweep(20.0) == 0


def test_entries_are_json_serialisable_envelopes() -> None:
    raw: dict[str, object] = {}
    store = TTLStore(raw)
    store.put("k", {"src": ["a"]}, expires=5)
    assert json.loads(json.dumps(raw)) == {"k": [5.0, {"src": ["a"]}]}
    assert store.expires("k") == 5.0
    assert store.expires("missing") is None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(1970, 1, 1, 0, 1, tzinfo=UTC), 60.0),
        (datetime(1970, 1, 1, 0, 1), 60.0),
        (datetime(1970, 1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), 60.0),
    ],
)
def test_epoch_reads_naive_datetimes_as_utc(moment: datetime, expected: float) -> None:
    assert epoch(moment) == expected


def test_staged_writes_are_read_back_but_reach_the_mapping_only_through_the_caller() -> None:
    raw: dict[str, object] = {"a": [9.0, "old"]}
    store = TTLStore(raw)
    store.stage()
    store.put("b", 1, expires=9.0)
    store.put("a", "new", expires=8.0)
    store.put("b", 2, expires=9.0)
    assert (store.get("a", 1.0), store.get("b", 1.0), store.expires("a")) == ("new", 2, 8.0)
    assert raw == {"a": [9.0, "old"]}
    assert store.staged() == [("b", [9.0, 2]), ("a", [8.0, "new"])]
    store.put("c", 3, expires=9.0)  # staging ended: writes go straight through
    assert raw["c"] == [9.0, 3] and store.staged() == []
