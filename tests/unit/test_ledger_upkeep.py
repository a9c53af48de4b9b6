"""Ledger pruning per table partition: outcomes carry the partition they were written in, and a
prune on partition p deletes only p's old outcomes, never thread receipts or other partitions'."""

from __future__ import annotations

from typing import Any

import pytest

from stream.delivery import DeliveryLedger, Receipt
from stream.ledger_upkeep import LedgerUpkeep, PartitionTagged, PartitionView

DAY = 86400.0
NOW = 100 * DAY


class Partition:
    """Stands in for the partition of the event being processed."""

    def __init__(self) -> None:
        self.current: int | None = None

    def __call__(self) -> int | None:
        return self.current


def _ledger(table: dict[str, Any], where: Partition) -> DeliveryLedger:
    return DeliveryLedger(PartitionTagged(table, where))


def test_outcomes_are_stamped_and_still_read_back() -> None:
    table: dict[str, Any] = {}
    where = Partition()
    ledger = _ledger(table, where)
    where.current = 3
    ledger.record("a1", "desk", status="delivered", attempts=1, at=NOW)
    ledger.set_thread("t1", "desk", Receipt(destination="desk", channel="C1", ts="1.0"))
    where.current = None  # written outside any event: nothing to stamp
    ledger.record("a2", "desk", status="dead", attempts=2, at=NOW, error="gone")

    assert table["a1|desk"]["partition"] == 3
    assert "partition" not in table["thread|t1|desk"]  # receipts forbid unknown keys
    assert "partition" not in table["a2|desk"]
    entry = ledger.get("a1", "desk")
    assert entry is not None and entry.status == "delivered"
    assert ledger.thread("t1", "desk") == Receipt(destination="desk", channel="C1", ts="1.0")


def _filled() -> dict[str, Any]:
    table: dict[str, Any] = {}
    where = Partition()
    ledger = _ledger(table, where)
    for partition, alert, age_days in [(0, "old0", 9), (0, "new0", 1), (1, "old1", 9),
                                       (1, "new1", 1)]:
        where.current = partition
        ledger.record(alert, "desk", status="delivered", attempts=1, at=NOW - age_days * DAY)
        ledger.set_thread(f"thr-{alert}", "desk",
                          Receipt(destination="desk", channel="C1", ts="1.0"))
    where.current = None
    ledger.record("legacy", "desk", status="delivered", attempts=1, at=NOW - 30 * DAY)
    return table


@pytest.mark.parametrize(
    ("partition", "gone"),
    [(0, {"old0|desk"}), (1, {"old1|desk"}), (2, set())],
)
def test_prune_touches_only_its_partition(partition: int, gone: set[str]) -> None:
    table = _filled()
    before = set(table)
    removed = LedgerUpkeep(table).maybe_prune(partition, wall=NOW, monotonic=0.0)
    assert removed == len(gone)
    assert before - set(table) == gone  # thread receipts and unstamped entries stay


def test_prune_runs_at_most_once_per_interval_per_partition() -> None:
    table = _filled()
    upkeep = LedgerUpkeep(table, every_s=60.0)
    assert upkeep.maybe_prune(0, wall=NOW, monotonic=10.0) == 1
    table["late0|desk"] = {"status": "delivered", "attempts": 1, "at": 0.0, "partition": 0}
    assert upkeep.maybe_prune(0, wall=NOW, monotonic=69.0) == 0  # too soon for partition 0
    assert upkeep.maybe_prune(1, wall=NOW, monotonic=69.0) == 1  # partition 1 has its own clock
    assert upkeep.maybe_prune(0, wall=NOW, monotonic=70.5) == 1
    assert "late0|desk" not in table


def test_view_refuses_other_partitions_keys() -> None:
    table = _filled()
    view = PartitionView(table, 0)
    assert set(view) == {"old0|desk", "new0|desk"}
    assert len(view) == 2
    with pytest.raises(KeyError):
        del view["old1|desk"]
    with pytest.raises(KeyError):
        view["thread|thr-old0|desk"]
    with pytest.raises(TypeError):
        view["x"] = {}
    assert "old1|desk" in table
