"""Acknowledgements leave each partition in offset order, whatever order the work finishes in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from stream.acks import InOrderAcks


@dataclass
class Event:
    partition: int
    offset: int
    log: list[tuple[int, int]] = field(default_factory=list)

    def ack(self) -> None:
        self.log.append((self.partition, self.offset))


def _track(acks: InOrderAcks, log: list[tuple[int, int]], partition: int, offsets: range) -> dict[
    int, Callable[[], None]
]:
    return {o: acks.track(partition, Event(partition, o, log)) for o in offsets}


@pytest.mark.parametrize(
    ("finish", "acked"),
    [
        ([0, 1, 2, 3], [0, 1, 2, 3]),
        ([3, 2, 1, 0], [0, 1, 2, 3]),
        ([1, 2, 3], []),  # offset 0 still in flight holds back everything after it
        ([1, 0, 3], [0, 1]),
        ([2, 0, 1], [0, 1, 2]),
    ],
)
def test_acks_follow_offset_order(finish: list[int], acked: list[int]) -> None:
    log: list[tuple[int, int]] = []
    acks = InOrderAcks()
    done = _track(acks, log, 7, range(4))
    for offset in finish:
        done[offset]()
    assert log == [(7, o) for o in acked]
    assert acks.in_flight(7) == 4 - len(acked)


def test_partitions_do_not_wait_for_each_other() -> None:
    log: list[tuple[int, int]] = []
    acks = InOrderAcks()
    a = _track(acks, log, 0, range(2))
    b = _track(acks, log, 1, range(2))
    b[0]()
    b[1]()
    a[1]()
    assert log == [(1, 0), (1, 1)]
    assert (acks.in_flight(0), acks.in_flight(1), acks.in_flight()) == (2, 0, 2)


def test_a_forgotten_partition_acknowledges_nothing_more() -> None:
    log: list[tuple[int, int]] = []
    acks = InOrderAcks()
    old = _track(acks, log, 3, range(3))
    old[1]()
    acks.forget(3)  # revoked while offset 0 was in flight
    old[0]()
    old[2]()
    assert log == []
    assert acks.in_flight(3) == 0
    # Given the partition back, the worker reads it again from the committed offset.
    new = _track(acks, log, 3, range(3))
    for offset in (0, 1, 2):
        new[offset]()
    assert log == [(3, 0), (3, 1), (3, 2)]


def test_finishing_twice_acknowledges_once() -> None:
    log: list[tuple[int, int]] = []
    acks = InOrderAcks()
    done = _track(acks, log, 0, range(2))
    done[0]()
    done[0]()
    done[1]()
    assert log == [(0, 0), (0, 1)]
