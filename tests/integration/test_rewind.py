"""Faust's rewind after dropped records reaches partitions the group never committed on.

Faust drops records fetched while its flow is stopped (a rebalance, a table recovery) and
seeks back to the committed offsets to read them again. aiokafka's ``seek_to_committed``
leaves a partition without a committed offset where it is, so those records were skipped:
after a crash, the first alerts of a partition nobody had committed on were never delivered.
``rewind_to_committed`` (used by the worker's transport) takes such a partition back to its
beginning, and keeps committed partitions and the ones it is told to keep where they belong.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from stream.broker.topics import TopicSpec, ensure_topics
from stream.transport import rewind_to_committed
from tests.support.kafka import produce


async def _read(consumer: AIOKafkaConsumer, tps: list[TopicPartition], count: int) -> None:
    """Read until every partition's position is ``count`` (each holds ``count`` records)."""
    for _ in range(200):
        if [await consumer.position(tp) for tp in tps] == [count] * len(tps):
            return
        await consumer.getmany(*tps, timeout_ms=200)
    raise AssertionError("the records were not read")


async def test_never_committed_partitions_go_back_to_their_beginning(broker: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    committed_topic, fresh_topic, kept_topic = (f"rw-{n}-{tag}" for n in ("c", "f", "k"))
    ensure_topics(broker.bootstrap, [TopicSpec(name=t, partitions=1)
                                     for t in (committed_topic, fresh_topic, kept_topic)])
    for topic in (committed_topic, fresh_topic, kept_topic):
        # one send per record: on the embedded broker, one batch each
        for n in range(3):
            produce(broker.bootstrap, topic, [(None, f"{topic}-{n}".encode())])
    tps = [TopicPartition(t, 0) for t in (committed_topic, fresh_topic, kept_topic)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=f"rw-{tag}", enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await _read(consumer, tps, 3)
        await consumer.commit({tps[0]: OffsetAndMetadata(2, "")})

        committed = await rewind_to_committed(consumer, keep={kept_topic})

        assert committed[tps[0]] == 2 and committed[tps[1]] is None
        assert await consumer.position(tps[0]) == 2  # back to the committed offset
        assert await consumer.position(tps[1]) == 0  # never committed: from the beginning
        assert await consumer.position(tps[2]) == 3  # kept where it was
        records = await consumer.getmany(tps[1], timeout_ms=5000)
        assert [r.value for r in records[tps[1]]][:1] == [f"{fresh_topic}-0".encode()]
    finally:
        await consumer.stop()
