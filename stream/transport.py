"""A Faust Kafka transport with chosen fetch settings.

Faust's aiokafka driver builds the worker's consumer with ``fetch_max_wait_ms=1500`` and no
``fetch_max_bytes``, and exposes neither as a setting. The wait matters on the embedded
broker: Tansu answers a fetch only when its wait is over, even if records arrived meanwhile,
so every hop of the pipeline (articles, matches, alerts) can add the whole wait to an alert's
latency, and a worker that was idle starts a burst late by up to the same amount. Apache Kafka
answers as soon as a record arrives, so there the wait only sets how often an idle consumer
asks again.

The transport is selected by assigning it to ``app.transport`` before anything uses it (see
``stream.app.create_app``); Faust then builds its consumer thread from the classes below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aiokafka
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
