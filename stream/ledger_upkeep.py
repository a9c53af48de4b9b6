"""Keep the delivery ledger from growing forever, one table partition at a time.

A Faust table writes each change to the changelog partition of the event being processed, so
a deletion must be made while processing an event of the partition that holds the key; a
tombstone sent to another partition would leave the value alive there and come back after a
restart. Ledger keys (``<alert id>|<destination>``) do not say which partition holds them (the
alert was keyed by its thread), so :class:`PartitionTagged` stamps each outcome it stores with
the partition it is written in. The stamp travels in the value, through the changelog, so it
survives recovery on another worker and with any table store. :class:`LedgerUpkeep` then
prunes, on an event of partition ``p``, only entries stamped ``p``, at most once a minute per
partition, the way the decide agent sweeps alert state.

Entries without a stamp (written before stamping existed) are left alone; thread receipts are
never pruned by :meth:`DeliveryLedger.prune` and are not stamped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from stream.delivery import DeliveryLedger

__all__ = [
    "LEDGER_RETENTION_S",
    "PRUNE_EVERY_S",
    "LedgerUpkeep",
    "PartitionTagged",
    "PartitionView",
]

# How long an outcome is remembered: far longer than any redelivery after a crash or rebalance.
LEDGER_RETENTION_S = 7 * 24 * 3600.0
PRUNE_EVERY_S = 60.0
PARTITION_FIELD = "partition"

PartitionOf = Callable[[], int | None]


def _stamp(value: Any) -> int | None:
    if isinstance(value, dict):
        stamp = value.get(PARTITION_FIELD)
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            return stamp
    return None


class PartitionTagged(MutableMapping[str, Any]):
    """The ledger's store: ``table`` with each outcome stamped by ``partition_of()``."""

    def __init__(self, table: MutableMapping[str, Any], partition_of: PartitionOf) -> None:
        self.table = table
        self._partition_of = partition_of

    def __getitem__(self, key: str) -> Any:
        return self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        partition = self._partition_of()
        if partition is not None and isinstance(value, dict) and not key.startswith("thread|"):
            value = {**value, PARTITION_FIELD: partition}
        self.table[key] = value

    def __delitem__(self, key: str) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


class PartitionView(MutableMapping[str, Any]):
    """The entries of ``table`` stamped with ``partition``; deletions go through to the table."""

    def __init__(self, table: MutableMapping[str, Any], partition: int) -> None:
        self.table = table
        self.partition = partition

    def __getitem__(self, key: str) -> Any:
        value = self.table[key]
        if _stamp(value) != self.partition:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError("a partition view only prunes; write through the ledger")

    def __delitem__(self, key: str) -> None:
        if _stamp(self.table[key]) != self.partition:
            raise KeyError(key)  # another partition's key: its tombstone would go astray
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, v in list(self.table.items()) if _stamp(v) == self.partition])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class LedgerUpkeep:
    """Prunes ledger outcomes older than ``retention_s``, per partition, at most every ``every_s``.

    Call :meth:`maybe_prune` from the agent that writes the ledger, while it processes an event
    of ``partition``, so the deletions reach that partition's changelog.
    """

    def __init__(
        self,
        table: MutableMapping[str, Any],
        *,
        retention_s: float = LEDGER_RETENTION_S,
        every_s: float = PRUNE_EVERY_S,
    ) -> None:
        self.table = table
        self.retention_s = retention_s
        self.every_s = every_s
        self._last: dict[int, float] = {}

    def maybe_prune(self, partition: int, *, wall: float, monotonic: float) -> int:
        """Prune ``partition`` if its last prune is ``every_s`` old; returns entries removed."""
        last = self._last.get(partition)
        if last is not None and monotonic - last < self.every_s:
            return 0
        self._last[partition] = monotonic
        return DeliveryLedger(PartitionView(self.table, partition)).prune(wall - self.retention_s)
