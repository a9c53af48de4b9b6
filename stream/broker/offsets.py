"""Give a consumer group a committed offset on every partition it will read, before it starts.

Faust drops the records it fetched while a rebalance or table recovery stopped its flow, then
seeks each partition back to the group's committed offset to read them again. aiokafka's
``seek_to_committed`` leaves a partition alone when the group never committed there, so on
such a partition those records were skipped: the first alerts of a partition after a worker
died, for instance. A partition whose committed offset is its beginning is read exactly as the
``earliest`` reset would read it, and is sought back like any other.

The commit is a plain one, outside any group generation, which Apache Kafka accepts only
while the group has no members: the first worker to start seeds the offsets, and a worker
joining a running group finds its partitions seeded already (the brokers refuse the commit,
which is fine). Partitions added later are seeded by the next start of an empty group.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from stream.errors import BrokerError

__all__ = ["seed_group_offsets"]

log = logging.getLogger("newsalert.broker")


def seed_group_offsets(
    bootstrap: str, group: str, topics: Iterable[str], timeout_s: float = 30.0
) -> dict[tuple[str, int], int]:
    """Commit the beginning offset for ``group`` on each partition of ``topics`` it has none on.

    Returns the offsets committed, by (topic, partition); empty when every partition had one,
    or when the group is running and the broker refused a commit from outside it.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import (
        CommitFailedError,
        IllegalGenerationError,
        KafkaError,
        UnknownMemberIdError,
    )

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=f"{group}-seed",
        enable_auto_commit=False,
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        unseeded = [tp for tp in partitions if consumer.committed(tp) is None]
        if not unseeded:
            return {}
        beginnings = consumer.beginning_offsets(unseeded)
        try:
            consumer.commit({tp: _offset(beginnings[tp]) for tp in unseeded})
        except (CommitFailedError, IllegalGenerationError, UnknownMemberIdError) as exc:
            log.info("group %s is running; its offsets are left to it (%s)", group, exc)
            return {}
        return {(tp.topic, tp.partition): beginnings[tp] for tp in unseeded}
    except KafkaError as exc:
        raise BrokerError(f"cannot seed the offsets of group {group!r}: {exc}") from exc
    finally:
        consumer.close()


def _offset(offset: int) -> object:
    from kafka.structs import OffsetAndMetadata

    # kafka-python 2.x takes (offset, metadata); later releases add a leader epoch.
    fields = OffsetAndMetadata._fields
    return OffsetAndMetadata(offset, "", -1) if len(fields) == 3 else OffsetAndMetadata(offset, "")
