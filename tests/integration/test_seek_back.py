"""The worker's consumer seeks back exactly to the records Faust dropped, on a real broker.

On a rebalance Faust drops the records it fetched and those its agents had not started, and
seeks back to read them again. ``seek_back`` (used by the worker's transport) sends a
partition with a committed offset above 0 there; one without, or committed at 0, to the first
record its streams did not finish, or to its beginning if it handed none on; and leaves the
topics it is told to keep (Faust's changelogs) where they are.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from stream.broker.topics import TopicSpec, ensure_topics
from stream.transport import seek_back
from tests.support.kafka import produce

CASES = ("committed", "fresh", "unfinished", "zero", "kept")


async def _read_all(consumer: AIOKafkaConsumer, tps: list[TopicPartition], count: int) -> None:
    """Fetch until every partition's position is ``count`` (each holds ``count`` records)."""
    async with asyncio.timeout(60):
        while [await consumer.position(tp) for tp in tps] != [count] * len(tps):
            await consumer.getmany(*tps, timeout_ms=200)


async def test_seek_back_returns_to_the_first_record_not_finished(broker: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    topics = {case: f"seek-{case}-{tag}" for case in CASES}
    ensure_topics(broker.bootstrap, [TopicSpec(name=t, partitions=1) for t in topics.values()])
    for topic in topics.values():
        # one send per record: one batch each, so a seek never starts inside a batch
        for n in range(3):
            produce(broker.bootstrap, topic, [(None, f"{topic}-{n}".encode())])
    tp = {case: TopicPartition(topic, 0) for case, topic in topics.items()}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=f"seek-{tag}",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(list(tp.values()))
        # All three records of every partition are fetched, as Faust's fetcher would have
        # done before its flow stopped; only some were finished.
        await _read_all(consumer, list(tp.values()), 3)
        await consumer.commit({tp["committed"]: OffsetAndMetadata(2, ""),
                               tp["zero"]: OffsetAndMetadata(0, "")})
        resume = {tp["committed"]: 3, tp["unfinished"]: 1, tp["zero"]: 2, tp["kept"]: 1}

        committed = await seek_back(consumer, resume, keep={topics["kept"]})

        assert committed == {tp["committed"]: 2, tp["fresh"]: None, tp["unfinished"]: None,
                             tp["zero"]: 0, tp["kept"]: None}
        positions = {case: await consumer.position(tp[case]) for case in CASES}
        assert positions == {"committed": 2, "fresh": 0, "unfinished": 1, "zero": 2, "kept": 3}
        # and the records come again from there
        again = await consumer.getmany(tp["fresh"], tp["unfinished"], timeout_ms=5000)
        assert [r.offset for r in again.get(tp["unfinished"], [])][:1] == [1]
        assert [r.offset for r in again.get(tp["fresh"], [])][:1] == [0]
    finally:
        await consumer.stop()


async def test_seek_back_skips_partitions_no_longer_assigned(broker: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    topic = f"seek-gone-{tag}"
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=2)])
    produce(broker.bootstrap, topic, [(b"k", b"v")])
    kept, gone = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=f"seek-{tag}",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign([kept])
        # a partition read before a rebalance took it away: nothing to seek, no error
        committed = await seek_back(consumer, {gone: 5})
        assert committed == {kept: None}
        assert await consumer.position(kept) == 0
    finally:
        await consumer.stop()
