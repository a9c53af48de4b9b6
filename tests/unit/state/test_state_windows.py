"""Distinct sources in a half-open sliding window."""

from __future__ import annotations

import pytest

from stream.state.store import TTLStore
from stream.state.windows import MAX_SOURCES, count_sources, observe_source

W = 100.0


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        # (source, time) reports in arrival order -> distinct sources counted at the last one
        ([("a", 0), ("b", 10), ("c", 20)], 3),
        ([("a", 0), ("a", 50), ("b", 60)], 2),
        ([("a", 0), ("b", 99.5)], 2),  # just inside the window
        ([("a", 0), ("b", 100)], 1),  # the window is half-open: a's report left at t + W
        ([("a", 0), ("b", 60), ("a", 120), ("c", 159)], 3),  # a refreshed at 120
        ([("a", 0), ("b", 60), ("c", 161)], 1),
        ([("a", 50), ("b", 10)], 1),  # a report from the future is kept but not counted yet
    ],
)
def test_window_counts(reports: list[tuple[str, float]], expected: int) -> None:
    store = TTLStore({})
    counted = 0
    for source, moment in reports:
        counted = observe_source(store, "w", source, moment, W)
    assert counted == expected


def test_entry_expires_with_its_newest_report() -> None:
    raw: dict[str, object] = {}
    store = TTLStore(raw)
    observe_source(store, "w", "a", 0.0, W)
    observe_source(store, "w", "b", 30.0, W)
    assert count_sources(store, "w", 99.0, W) == 2
    assert count_sources(store, "w", 100.0, W) == 1
    assert store.sweep(129.0) == 0
    assert store.sweep(130.0) == 1
    assert raw == {}


def test_window_keeps_only_the_newest_sources() -> None:
    store = TTLStore({})
    total = 0
    for i in range(MAX_SOURCES + 5):
        total = observe_source(store, "w", f"s{i}", float(i) / 1000, 10 * W)
    assert total == MAX_SOURCES
