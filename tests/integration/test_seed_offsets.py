"""Seeding a consumer group's offsets before its first member starts (stream/broker/offsets.py).

Faust can only seek back to a committed offset, so every partition the worker's Faust group
reads gets one before the worker starts: its beginning, where the ``earliest`` reset would
start anyway. These tests check it on the real broker of the session.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as AioPartition
from kafka import TopicPartition

from stream.broker import TopicSpec, ensure_topics
from stream.broker.offsets import seed_group_offsets
from tests.support.kafka import committed


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    found = {p: committed(bootstrap, group, TopicPartition(topic, p)) for p in range(partitions)}
    return {p: offset for p, offset in found.items() if offset is not None}


def _names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"seed-{tag}", f"seed-group-{tag}"


async def _produce(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(topic, f"r{i}".encode(), partition=partition)
    finally:
        await producer.stop()


def test_every_partition_without_a_commit_gets_its_beginning(broker: Any) -> None:
    topic, group = _names()
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=3)])
    asyncio.run(_produce(broker.bootstrap, topic, 1, 2))

    seeded = seed_group_offsets(broker.bootstrap, group, [topic])

    assert seeded == {(topic, 0): 0, (topic, 1): 0, (topic, 2): 0}
    assert _committed(broker.bootstrap, group, topic, 3) == {0: 0, 1: 0, 2: 0}
    # Seeded partitions are left alone by the next start.
    assert seed_group_offsets(broker.bootstrap, group, [topic]) == {}


def test_a_committed_offset_is_never_moved(broker: Any) -> None:
    topic, group = _names()
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=2)])
    asyncio.run(_produce(broker.bootstrap, topic, 0, 3))

    async def commit_two() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([AioPartition(topic, 0)])
            await consumer.commit({AioPartition(topic, 0): 2})
        finally:
            await consumer.stop()

    asyncio.run(commit_two())
    assert seed_group_offsets(broker.bootstrap, group, [topic]) == {(topic, 1): 0}
    assert _committed(broker.bootstrap, group, topic, 2) == {0: 2, 1: 0}


def test_a_seeded_partition_is_read_from_its_first_record(broker: Any) -> None:
    """What the seed is for: a group member that starts on a seeded partition reads it whole."""
    topic, group = _names()
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=1)])
    seed_group_offsets(broker.bootstrap, group, [topic])
    asyncio.run(_produce(broker.bootstrap, topic, 0, 3))

    async def read_all() -> list[bytes]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=broker.bootstrap, group_id=group,
            enable_auto_commit=False, auto_offset_reset="latest",
        )
        await consumer.start()
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        try:
            while len(values) < 3 and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=200)
                values.extend(r.value for part in batches.values() for r in part)
        finally:
            await consumer.stop()
        return values

    # "latest" would skip the three records; the seeded offset 0 is what the member uses.
    assert asyncio.run(read_all()) == [b"r0", b"r1", b"r2"]


def test_a_running_group_keeps_its_offsets(broker: Any) -> None:
    """A worker joining a running group must not move a member's offsets: both brokers refuse
    a commit from outside the group's generation while it has members."""
    topic, group = _names()
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=1)])
    asyncio.run(_produce(broker.bootstrap, topic, 0, 3))

    async def seed_while_a_member_reads() -> dict[tuple[str, int], int]:
        member = AIOKafkaConsumer(
            topic, bootstrap_servers=broker.bootstrap, group_id=group,
            enable_auto_commit=False, auto_offset_reset="earliest",
        )
        await member.start()
        try:
            deadline = time.monotonic() + 60
            while not member.assignment() and time.monotonic() < deadline:
                await member.getmany(timeout_ms=200)
            assert member.assignment(), "the member never got its partition"
            seeded = await asyncio.to_thread(seed_group_offsets, broker.bootstrap, group, [topic])
            await member.commit({AioPartition(topic, 0): 3})
            return seeded
        finally:
            await member.stop()

    assert asyncio.run(seed_while_a_member_reads()) == {}
    assert _committed(broker.bootstrap, group, topic, 1) == {0: 3}
