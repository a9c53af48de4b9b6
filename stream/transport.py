"""A Faust Kafka transport with chosen fetch settings.

Faust's aiokafka driver builds the worker's consumer with ``fetch_max_wait_ms=1500`` and no
``fetch_max_bytes``, and exposes neither as a setting. The wait matters on the embedded
broker: Tansu answers a fetch only when its wait is over, even if records arrived meanwhile,
so every hop of the pipeline (articles, matches, alerts) can add the whole wait to an alert's
latency, and a worker that was idle starts a burst late by up to the same amount. Apache Kafka
answers as soon as a record arrives, so there the wait only sets how often an idle consumer
asks again.

It also mends how Faust reads again what it dropped. On a rebalance or a table recovery,
Faust drops the records it fetched and the ones waiting in its agents' queues, and seeks every
partition back to its committed offset to read them again. aiokafka's ``seek_to_committed``
leaves a partition whose committed offset is missing or 0 where the fetcher stands, past the
dropped records, so they were skipped for good: the first alerts of a partition after a
crash, for instance. The worker's consumer seeks such a partition back to the first record
its streams have not finished (what Faust would have committed by then), or to offset 0 when
it has handed none on. Changelog partitions stay where Faust puts them.

The transport is selected by assigning it to ``app.transport`` before anything uses it (see
``stream.app.create_app``); Faust then builds its consumer thread from the classes below.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

from stream.errors import NewsalertError

log = logging.getLogger("newsalert.transport")

__all__ = [
    "FetchTuning",
    "TransportError",
    "TunedTransport",
    "apply_tuning",
    "first_unfinished",
    "install_transport",
    "seek_back",
]


@dataclass(frozen=True, slots=True)
class FetchTuning:
    """Consumer fetch settings Faust does not expose.

    ``max_wait_ms`` is how long the broker may hold a fetch that has no records yet;
    ``max_bytes`` caps one fetch response over all partitions (the per-partition cap is
    Faust's own ``consumer_max_fetch_size`` setting).
    """

    max_wait_ms: int
    max_bytes: int = 52_428_800


# aiokafka reads these attributes when the consumer starts and builds its fetcher; they are
# private, so a release that renames them must fail loudly here rather than be ignored.
_CONSUMER_ATTRIBUTES = {"max_wait_ms": "_fetch_max_wait_ms", "max_bytes": "_fetch_max_bytes"}


class TransportError(NewsalertError, RuntimeError):
    """The installed aiokafka no longer has the fetch settings this transport adjusts."""


def apply_tuning(consumer: aiokafka.AIOKafkaConsumer, tuning: FetchTuning) -> None:
    """Set ``tuning`` on a consumer that has not started yet."""
    for field, attribute in _CONSUMER_ATTRIBUTES.items():
        if not hasattr(consumer, attribute):
            raise TransportError(
                f"aiokafka {aiokafka.__version__} has no AIOKafkaConsumer.{attribute}; "
                "update stream/transport.py for this release"
            )
        setattr(consumer, attribute, getattr(tuning, field))


def first_unfinished(first: int | None, acked: Iterable[int], gaps: Iterable[range] = ()) -> int:
    """The first offset from ``first`` on that is neither acknowledged nor in a gap.

    ``first`` is the first record handed on since the partition was assigned (None: none was,
    and the answer is 0); ``gaps`` are offset ranges the fetches skipped (Faust counts them as
    done).
    """
    if first is None:
        return 0
    done = set(acked)
    spans = sorted((gap.start, gap.stop) for gap in gaps)
    offset = first
    while True:
        if offset in done:
            offset += 1
            continue
        jump = next((stop for start, stop in spans if start <= offset < stop), None)
        if jump is None:
            return offset
        offset = jump


async def seek_back(
    consumer: aiokafka.AIOKafkaConsumer,
    resume: Mapping[aiokafka.TopicPartition, int],
    keep: Collection[str] = (),
) -> dict[aiokafka.TopicPartition, int | None]:
    """Seek every assigned partition back to the first record it must read again.

    That is the committed offset where there is one above 0; otherwise ``resume`` (the first
    record not finished), or offset 0 for a partition it does not name: the beginning, or
    where retention has moved that on, an offset out of range, which the consumer's
    ``earliest`` reset answers. Partitions of the topics in ``keep`` are left to aiokafka.
    Returns the committed offsets, as aiokafka's ``seek_to_committed`` does, for Faust's
    bookkeeping.
    """
    committed: dict[aiokafka.TopicPartition, int | None] = await consumer.seek_to_committed()
    # Read with no await before the seeks: a rebalance may have taken partitions away while
    # the committed offsets were fetched.
    assigned = consumer.assignment()
    for tp, offset in committed.items():
        if offset or tp.topic in keep or tp not in assigned:
            continue
        target = resume.get(tp, 0)
        consumer.seek(tp, target)
        log.info(
            "%s-%d has no committed offset: reading again from offset %d",
            tp.topic, tp.partition, target,
        )
    return committed


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with the fetch settings of its transport applied."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        apply_tuning(consumer, transport.fetch_tuning)
        return consumer

    async def seek_back(
        self, resume: Mapping[Any, int], keep: Collection[str]
    ) -> Mapping[Any, int | None]:
        committed: Mapping[Any, int | None] = await self.call_thread(
            seek_back, self._ensure_consumer(), resume, keep
        )
        return committed


class _Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, seeking partitions without a committed offset back exactly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # partition -> the first record handed to the streams since it was assigned
        self._first: dict[Any, int] = {}

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _to_message(self, tp: Any, record: Any) -> Any:
        self._first.setdefault(tp, record.offset)
        return super()._to_message(tp, record)

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        for tp in revoked:
            self._first.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def resume_points(self) -> dict[Any, int]:
        """Per partition handed on since its assignment, the first record not finished."""
        return {
            tp: first_unfinished(
                first,
                self._acked.get(tp, ()),
                [range(gap.begin, gap.end) for gap in self._gap.get(tp, ())],
            )
            for tp, first in self._first.items()
        }

    async def seek_to_committed(self) -> Mapping[Any, int]:
        # Worked out before the committed offsets are fetched, on the loop that acknowledges:
        # records finished meanwhile are read again (a duplicate the dedup state and the
        # ledger drop), never skipped.
        resume = self.resume_points()
        thread = cast(_ConsumerThread, self._thread)
        keep = set(self.app.tables.changelog_topics)
        # Faust's typing says int; aiokafka gives None where nothing was committed, and
        # Faust's perform_seek handles both.
        return cast(Mapping[Any, int], await thread.seek_back(resume, keep))


class TunedTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with a chosen :class:`FetchTuning`."""

    Consumer: ClassVar[Any] = _Consumer

    def __init__(self, *args: Any, fetch_tuning: FetchTuning, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetch_tuning = fetch_tuning


def install_transport(app: Any, tuning: FetchTuning) -> TunedTransport:
    """Make ``app`` consume through a :class:`TunedTransport`; call before ``app`` is used."""
    transport = TunedTransport(app.conf.broker_consumer, app, fetch_tuning=tuning)
    app.transport = transport
    return transport
