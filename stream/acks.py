"""Acknowledge a partition's events in offset order, whatever order their work finishes in.

The deliver agent starts every alert's delivery beside the stream, so deliveries finish out of
order: a slow destination, a retry, a rate limit. Faust commits the offset after the first run
of consecutive acknowledged offsets it holds, and does not know which offsets it handed out
and are still in flight: acknowledging offset 11 while 10 is still being delivered can commit
12, and a worker that dies then loses alert 10 (its successor starts after it). Releasing
acknowledgements strictly in the order the events arrived closes that hole: an offset is
acknowledged only once it and every earlier offset of its partition are finished.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["InOrderAcks", "Trackable"]


class Trackable(Protocol):
    """What the tracker needs of an event: a way to acknowledge it."""

    def ack(self) -> object: ...


@dataclass(slots=True)
class _Entry:
    event: Trackable
    done: bool = False


class InOrderAcks:
    """Per-partition queues of events in arrival order; a finished head is acknowledged.

    ``track(partition, event)`` returns the function to call when the event's work is done.
    ``forget(partition)`` drops a revoked partition's queue: its unfinished events are never
    acknowledged by this worker (the partition's next owner reads them again), and finishing
    them later acknowledges nothing.
    """

    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[_Entry]] = {}

    def track(self, partition: Hashable, event: Trackable) -> Callable[[], None]:
        queue = self._queues.get(partition)
        if queue is None:
            queue = self._queues[partition] = deque()
        entry = _Entry(event)
        queue.append(entry)

        def done() -> None:
            entry.done = True
            if self._queues.get(partition) is not queue:
                return  # forgotten: the partition was revoked meanwhile
            while queue and queue[0].done:
                queue.popleft().event.ack()

        return done

    def forget(self, partition: Hashable) -> None:
        self._queues.pop(partition, None)

    def in_flight(self, partition: Hashable | None = None) -> int:
        """Events tracked and not yet acknowledged (of one partition, or all)."""
        if partition is not None:
            queue = self._queues.get(partition)
            return 0 if queue is None else len(queue)
        return sum(map(len, self._queues.values()))
