"""A Faust Kafka transport with chosen fetch settings and a cheaper hand-off per record.

Faust's aiokafka driver builds the worker's consumer with ``fetch_max_wait_ms=1500`` and no
``fetch_max_bytes``, and exposes neither as a setting. The wait matters on the embedded
broker: Tansu answers a fetch only when its wait is over, even if records arrived meanwhile,
so every hop of the pipeline (articles, matches, alerts) can add the whole wait to an alert's
latency, and a worker that was idle starts a burst late by up to the same amount. Apache Kafka
answers as soon as a record arrives, so there the wait only sets how often an idle consumer
asks again.

Faust's drain loop hands each fetched record to the streams through ``wait_first``, which
starts four tasks per record (the hand-off, and watchers for a flow suspension, a stop and a
crash) so that a hand-off blocked by a rebalance can be abandoned. That bookkeeping cost about
as much CPU as matching an article. :class:`_Consumer` keeps Faust's loop but hands a record
over directly when nothing can block it: the flow is running, the record's partition is not
throttled for a full stream buffer, no recovery is in progress and the producer buffer has
room. Otherwise it takes Faust's path, so rebalances behave exactly as before.

The transport is selected by assigning it to ``app.transport`` before anything uses it (see
``stream.app.create_app``); Faust then builds its consumer thread from the classes below.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import aiokafka
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka

from stream.errors import NewsalertError

__all__ = ["FetchTuning", "TransportError", "TunedTransport", "apply_tuning", "install_transport"]


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


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with the fetch settings of its transport applied."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        apply_tuning(consumer, transport.fetch_tuning)
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _hand_off_cannot_block(self, tp: Any) -> bool:
        """True when the conductor will queue a record of ``tp`` without waiting: each place
        it could wait (flow control, a full stream buffer, a full producer buffer) is open."""
        app = self.app
        buffer = app.producer.buffer
        return (
            not self.suspend_flow.is_set()
            and app.flow_control.is_active()
            and not app.in_recovery
            and tp not in self._buffered_partitions
            and buffer.size < buffer.max_messages
        )

    async def _drain_messages(self, fetcher: Any) -> None:
        # Faust's loop (faust.transport.consumer.Consumer._drain_messages), with the direct
        # hand-off described in the module docstring; the integration suite runs it.
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        acks_enabled_for = self.app.topics.acks_enabled_for
        cannot_block = self._hand_off_cannot_block
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                records = getmany(timeout=1.0)
                await self.sleep(0)
                if self.should_stop:
                    continue
                async for tp, message in records:
                    since_yield += 1
                    if since_yield > 100:
                        await asyncio.sleep(0)
                        since_yield = 0
                    offset = message.offset
                    read_offset = get_read_offset(tp)
                    if read_offset is not None and offset < read_offset:
                        continue  # already delivered: Faust drops it the same way
                    if read_offset and offset - read_offset > 1 and acks_enabled_for(
                        message.topic
                    ):
                        await self._add_gap(tp, read_offset + 1, offset)
                    if self._commit_every is not None and self._n_acked >= self._commit_every:
                        self._n_acked = 0
                        await self.commit()
                    if cannot_block(tp):
                        await callback(message)
                    else:
                        await self.wait_first(callback(message), self.suspend_flow.wait())
                    set_read_offset(tp, offset)
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if not self.transport.app.should_stop:
                raise
            self.log.info("Broker stopped consumer, shutting down...")
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                raise
            self.log.info("Consumer shutting down for user cancel.")
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)


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
