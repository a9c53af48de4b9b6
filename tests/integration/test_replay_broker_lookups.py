"""What the broker itself answers to the lookups a replay depends on, pinned per broker.

Replay must be right on both brokers, so it never trusts these answers blindly (see
docs/replay.md). These tests record exactly how the embedded broker (Tansu) differs from
Apache Kafka, so a change in either shows up here first:

- list offsets (latest): Kafka gives the offset after the last record; Tansu gives the base
  offset of the last batch plus one, short of the end when that batch holds several records.
  The high watermark in fetch responses is right on both.
- offsets for times: Kafka compares each record's own timestamp; Tansu compares the time it
  appended each batch and answers with the batch's base offset; with nothing at or after the
  time, Kafka answers "none", Tansu answers offset 0 with timestamp -1.
- a fetch that starts inside a batch returns the batch's records from that offset on, on both.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream.broker import TopicSpec, ensure_topics
from tests.support.waiting import wait_for

OLD = 1_600_000_000_000  # record timestamps far before any append time


@pytest.fixture
def batched(broker: Any) -> tuple[str, list[int]]:
    """One partition, two batches of three records with old timestamps, appended apart."""
    name = f"lookups-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [TopicSpec(name=name, partitions=1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=200)
    marks = []
    for batch in range(2):
        marks.append(int(time.time() * 1000))
        for i in range(3):
            producer.send(name, value=b"x", partition=0, timestamp_ms=OLD + (batch * 3 + i))
        producer.flush()
        # the next batch must be appended at a later millisecond than this one
        wait_for(lambda m=marks[-1]: int(time.time() * 1000) > m + 5, 5, "the clock to move")
    producer.close()
    return name, marks


@pytest.fixture
def consumer(broker: Any) -> Any:
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                      enable_auto_commit=False, fetch_max_wait_ms=100)
    yield c
    c.close()


def test_listed_end_offset(broker_kind: str, batched: tuple[str, list[int]],
                           consumer: Any) -> None:
    name, _ = batched
    tp = TopicPartition(name, 0)
    listed = consumer.end_offsets([tp])[tp]
    assert listed == (6 if broker_kind == "apache" else 4)  # Tansu: last base (3) + 1
    consumer.assign([tp])
    consumer.seek(tp, 0)

    def fetched() -> bool:
        consumer.poll(timeout_ms=100)
        return consumer.highwater(tp) is not None

    wait_for(fetched, 30, "a fetch response")
    assert consumer.highwater(tp) == 6  # both


def test_offsets_for_times(broker_kind: str, batched: tuple[str, list[int]],
                           consumer: Any) -> None:
    name, marks = batched
    tp = TopicPartition(name, 0)

    def lookup(ms: int) -> tuple[int, int] | None:
        answer = consumer.offsets_for_times({tp: ms})[tp]
        return None if answer is None else (answer.offset, answer.timestamp)

    by_record_time = lookup(OLD + 4)
    after_everything = lookup(int(time.time() * 1000) + 3_600_000)
    second_append = lookup(marks[1])
    if broker_kind == "apache":
        assert by_record_time == (4, OLD + 4)
        assert after_everything is None
        assert second_append is None  # no record is stamped that late
    else:
        assert by_record_time is not None and by_record_time[0] == 0  # append time >> OLD
        assert after_everything == (0, -1)
        assert second_append is not None and second_append[0] == 3  # second batch's base


def test_fetch_from_inside_a_batch(batched: tuple[str, list[int]], consumer: Any) -> None:
    name, _ = batched
    tp = TopicPartition(name, 0)
    consumer.assign([tp])
    consumer.seek(tp, 1)
    got: list[int] = []

    def enough() -> bool:
        for records in consumer.poll(timeout_ms=100).values():
            got.extend(r.offset for r in records)
        return len(got) >= 5

    wait_for(enough, 30, "five records")
    assert got == [1, 2, 3, 4, 5]
