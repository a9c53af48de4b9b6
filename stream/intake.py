"""Reading the articles topic in batches, with a plain consumer group beside Faust.

Every article meets the rule engine, but only about one in a hundred produces a match; the
stateful stages (decide, deliver) see only those. Faust's per-record path (conductor, stream
iterator, acknowledgements, sensors) cost the worker about as much CPU as matching the
article, and the articles hop needs none of what it buys: no table, no per-key ordering
beyond the partition's own. So the worker reads ``articles`` with an aiokafka group consumer,
hands each fetched batch to a handler in chunks (parse, evaluate, send matches and dead
letters), waits until the broker has acknowledged everything the handler sent, and only then
commits the batch's offsets. A crash replays at most the uncommitted batch; a replayed article is a
duplicate the decide stage already absorbs (same story, same alert id), so nothing is lost and
nothing alerts twice.

The group is ``<app id>-ingest``, not Faust's: Faust's group speaks Faust's own assignment
protocol, which a plain consumer cannot join. Workers still share the articles partitions,
because every worker runs one such consumer. A partition is handed over only after the batch
in hand is committed (the revocation callback waits for it), so its next owner starts where
this worker stopped.

A handler that raises (for example, the broker refused a send) has its batch read again from
the batch's first offsets after a pause, so a transient failure delays articles but drops none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

__all__ = ["BatchHandler", "Intake", "IntakeTuning", "ingest_group"]

log = logging.getLogger("newsalert.intake")

# Handles some records and returns the acknowledgements of what it sent (matches, dead
# letters): the batch is committed once all of them have arrived.
BatchHandler = Callable[
    [Sequence[ConsumerRecord[bytes, bytes]]], Awaitable[Sequence[Awaitable[object]]]
]


def ingest_group(app_id: str) -> str:
    """The consumer group that reads the articles topic for the workers of ``app_id``."""
    return f"{app_id}-ingest"


@dataclass(frozen=True, slots=True)
class IntakeTuning:
    """Consumer settings; the broker-dependent ones come from ``stream.app`` like Faust's."""

    max_wait_ms: int
    rebalance_timeout_s: float
    session_timeout_s: float = 10.0
    heartbeat_s: float = 1.0
    max_records: int = 5000
    chunk: int = 200
    max_partition_fetch_bytes: int = 4 * 1024 * 1024
    retry_pause_s: float = 1.0
    poll_timeout_ms: int = 500


@dataclass
class _State:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    assignment: frozenset[TopicPartition] = frozenset()
    joined: bool = False


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands partitions over only after the batch in hand is committed."""

    def __init__(self, state: _State, on_assigned: Callable[[frozenset[TopicPartition]], None]):
        self._state = state
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self._state.lock:  # the batch loop holds it from fetch to commit
            self._state.assignment = self._state.assignment - frozenset(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._state.assignment = frozenset(assigned)
        self._state.joined = True
        self._on_assigned(self._state.assignment)


class Intake:
    """One worker's reader of the articles topic: fetch a batch, handle it, commit it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group_id: str,
        handler: BatchHandler,
        tuning: IntakeTuning,
        *,
        on_assigned: Callable[[frozenset[TopicPartition]], None] = lambda _: None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.group_id = group_id
        self.tuning = tuning
        self._handler = handler
        self._state = _State()
        self._listener = _Listener(self._state, on_assigned)

    @property
    def joined(self) -> bool:
        """True once the consumer has joined its group and received an assignment."""
        return self._state.joined

    def assignment(self) -> frozenset[TopicPartition]:
        """The articles partitions this worker reads now."""
        return self._state.assignment

    def _consumer(self) -> AIOKafkaConsumer:
        t = self.tuning
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=t.max_wait_ms,
            max_partition_fetch_bytes=t.max_partition_fetch_bytes,
            session_timeout_ms=int(t.session_timeout_s * 1000),
            heartbeat_interval_ms=int(t.heartbeat_s * 1000),
            rebalance_timeout_ms=int(t.rebalance_timeout_s * 1000),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Read and handle batches until ``stop`` is set; the batch in hand is finished first."""
        consumer = self._consumer()
        consumer.subscribe([self.topic], listener=self._listener)
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(
                    timeout_ms=self.tuning.poll_timeout_ms, max_records=self.tuning.max_records
                )
                if not batches:
                    continue
                async with self._state.lock:
                    handled = await self._handle(consumer, batches)
                if not handled:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.tuning.retry_pause_s)
        finally:
            await consumer.stop()

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> bool:
        records = [record for part in batches.values() for record in part]
        step = self.tuning.chunk
        try:
            pending: list[Awaitable[object]] = []
            for start in range(0, len(records), step):
                pending.extend(await self._handler(records[start : start + step]))
                # The fetcher asks for the next records only once these are taken from its
                # buffer; yielding between chunks lets it send that request and read the
                # answer while this batch is handled, instead of after.
                await asyncio.sleep(0)
            await asyncio.gather(*pending)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("articles batch of %d not handled, reading it again: %r", len(records),
                      exc, exc_info=exc, extra={"group_id": self.group_id})
            for tp, part in batches.items():
                if tp in consumer.assignment():
                    consumer.seek(tp, part[0].offset)
            return False
        offsets = {
            tp: part[-1].offset + 1 for tp, part in batches.items() if tp in consumer.assignment()
        }
        try:
            if offsets:
                await consumer.commit(offsets)
        except KafkaError as exc:
            # Handled but not committed: a later commit covers these offsets, or, after a
            # rebalance, the partition's next owner reads them again (a duplicate, not a loss).
            log.warning("articles offsets not committed: %s", exc,
                        extra={"group_id": self.group_id})
        return True
