"""Consumer lag: how many records each partition holds beyond what the group has committed.

Lag is the one number that says whether the workers keep up, and what an autoscaler (KEDA's
Kafka scaler, an HPA on this gauge) scales on. It is measured the way Kafka's own tools do:
the end offset of a partition minus the group's committed offset, both asked of the broker, so
it is true for the whole group whichever worker committed.

Each worker publishes the partitions currently assigned to it, and drops the labels of
partitions it lost in a rebalance: summing the gauge over workers then gives the group's lag
with no partition counted twice. The arithmetic (:func:`compute_lag`) and the label bookkeeping
(:func:`publish`) are plain functions; :class:`LagSampler` only adds the broker round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Gauge

__all__ = ["LagSampler", "compute_lag", "publish"]

log = logging.getLogger("newsalert.lag")

_REQUEST_TIMEOUT_MS = 5000


def compute_lag(
    end: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, int | None],
    beginning: Mapping[TopicPartition, int] | None = None,
) -> dict[TopicPartition, int]:
    """Records between the committed offset (the next one to read) and the end of each partition.

    A partition the group never committed on counts from its first retained record (the group
    starts at ``earliest``); lag is never negative, even when a commit races the end offset.
    """
    lags: dict[TopicPartition, int] = {}
    for tp, end_offset in end.items():
        start = committed.get(tp)
        if start is None or start < 0:
            start = (beginning or {}).get(tp, 0)
        lags[tp] = max(0, end_offset - start)
    return lags


def publish(
    gauge: Gauge, lags: Mapping[TopicPartition, int], previous: Iterable[TopicPartition] = ()
) -> set[TopicPartition]:
    """Set one gauge child per partition and remove those of partitions no longer reported.

    Returns the partitions now published, to pass as ``previous`` next time.
    """
    for tp, lag in lags.items():
        gauge.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
    for tp in set(previous) - set(lags):
        with contextlib.suppress(KeyError):
            gauge.remove(tp.topic, str(tp.partition))
    return set(lags)


class LagSampler:
    """Sample a consumer group's lag on some topics with one admin client and one consumer.

    ``assigned`` returns the partitions this worker owns (Faust's ``consumer.assignment()``);
    without it every partition of ``topics`` is sampled, as a monitoring tool would.
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Collection[str],
        gauge: Gauge,
        assigned: Callable[[], Iterable[Any]] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.topics = frozenset(topics)
        self.gauge = gauge
        self._assigned = assigned
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._published: set[TopicPartition] = set()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            # A short request timeout: while the broker is away, a sample should fail (and
            # say so in the log) within a few seconds, not after the default 40.
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self.bootstrap, request_timeout_ms=_REQUEST_TIMEOUT_MS
            )
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                enable_auto_commit=False,
                group_id=None,
                request_timeout_ms=_REQUEST_TIMEOUT_MS,
            )
            try:
                await admin.start()
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                with contextlib.suppress(Exception):
                    await admin.close()
                raise
            self._admin, self._consumer = admin, consumer
        return self._admin, self._consumer

    async def _partitions(self, admin: AIOKafkaAdminClient) -> list[TopicPartition]:
        if self._assigned is not None:
            owned = (TopicPartition(tp[0], tp[1]) for tp in self._assigned())
            return sorted(tp for tp in owned if tp.topic in self.topics)
        # Asked of the admin API: a plain consumer's metadata only covers topics it tracks on
        # Apache Kafka, so ``partitions_for_topic`` would know nothing there.
        described = await admin.describe_topics(sorted(self.topics))
        return sorted(
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        )

    async def sample(self) -> dict[TopicPartition, int]:
        """Ask the broker once; publish and return the lag of every sampled partition."""
        admin, consumer = await self._clients()
        partitions = await self._partitions(admin)
        lags: dict[TopicPartition, int] = {}
        if partitions:
            end = await consumer.end_offsets(partitions)
            beginning = await consumer.beginning_offsets(partitions)
            offsets = await admin.list_consumer_group_offsets(self.group_id, partitions=partitions)
            committed = {tp: meta.offset for tp, meta in offsets.items()}
            lags = compute_lag(end, committed, beginning)
        self._published = publish(self.gauge, lags, self._published)
        return lags

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Sample every ``interval`` seconds until ``stop`` is set; a failed sample is retried."""
        try:
            while not stop.is_set():
                try:
                    await self.sample()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a broker restart must not end lag reporting
                    log.warning("consumer lag not sampled: %s", exc,
                                extra={"group_id": self.group_id})
                    await self._reset()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            await self.close()

    async def _reset(self) -> None:
        with contextlib.suppress(Exception):
            await self.close()

    async def close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        try:
            if consumer is not None:
                await consumer.stop()
        finally:
            if admin is not None:
                await admin.close()
