"""The articles intake on a real broker: a batch is committed only once it is handled, a batch
whose handler fails is read again, and the group's next reader resumes after the last commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from stream.broker import TopicSpec, ensure_topics
from stream.intake import Intake, IntakeTuning, ingest_group
from tests.support.kafka import produce
from tests.support.waiting import wait_for
from tests.support.worker import WorkerProcess, unique_names

PARTITIONS = 2
TUNING = IntakeTuning(max_wait_ms=100, rebalance_timeout_s=3.0, retry_pause_s=0.05)


class Recorder:
    """A batch handler that fails on chosen calls and remembers what it handled."""

    def __init__(self, expected: int, fail_calls: frozenset[int] = frozenset()) -> None:
        self.expected = expected
        self.fail_calls = fail_calls
        self.calls = 0
        self.handled: list[tuple[int, int, bytes]] = []
        self.done = asyncio.Event()

    async def __call__(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Any]:
        self.calls += 1
        if self.calls in self.fail_calls:
            raise RuntimeError("the broker refused a send")
        self.handled.extend((r.partition, r.offset, r.value) for r in records)
        if len(self.handled) >= self.expected:
            self.done.set()
        return []


async def _run_until_done(intake: Intake, recorder: Recorder) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(intake.run(stop))
    try:
        await asyncio.wait_for(recorder.done.wait(), timeout=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


async def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


def _records(prefix: str, count: int) -> list[tuple[bytes, bytes]]:
    return [(f"{prefix}-{i}".encode(), f"{prefix}-{i}".encode()) for i in range(count)]


async def _filled_topic(
    broker: Any, name: str, prefix: str, count: int
) -> tuple[str, str, list[tuple[bytes, bytes]]]:
    """A fresh topic holding ``count`` records, and the intake group of a fresh app id."""
    names = unique_names(name)
    topic, group = names["NEWSALERT_ARTICLES_TOPIC"], ingest_group(names["NEWSALERT_APP_ID"])
    ensure_topics(broker.bootstrap, [TopicSpec(name=topic, partitions=PARTITIONS)])
    records = _records(prefix, count)
    await asyncio.to_thread(produce, broker.bootstrap, topic, records)
    return topic, group, records


async def test_failed_batch_is_read_again_and_commits_follow_handling(broker: Any) -> None:
    topic, group, first = await _filled_topic(broker, "intake", "first", 30)

    recorder = Recorder(expected=len(first), fail_calls=frozenset({1}))
    assigned: list[frozenset[TopicPartition]] = []
    intake = Intake(broker.bootstrap, topic, group, recorder, TUNING, on_assigned=assigned.append)
    await _run_until_done(intake, recorder)

    # The failed first batch was read again: every record handled, none twice.
    assert recorder.calls >= 2
    assert sorted(value for _, _, value in recorder.handled) == sorted(v for _, v in first)
    assert len({(p, o) for p, o, _ in recorder.handled}) == len(first)
    assert assigned and assigned[0] == {TopicPartition(topic, p) for p in range(PARTITIONS)}
    assert intake.joined
    # Everything handled is committed: the group has no lag left.
    ends = await _end_offsets(broker.bootstrap, topic)
    assert sum(ends.values()) >= len(first)
    assert await _committed(broker.bootstrap, group, topic) == ends

    # The group's next reader starts after the commit: only new records reach it.
    second = _records("second", 10)
    await asyncio.to_thread(produce, broker.bootstrap, topic, second)
    later = Recorder(expected=len(second))
    await _run_until_done(Intake(broker.bootstrap, topic, group, later, TUNING), later)
    assert sorted(value for _, _, value in later.handled) == sorted(v for _, v in second)
    assert await _committed(broker.bootstrap, group, topic) == await _end_offsets(
        broker.bootstrap, topic
    )


async def test_a_batch_in_hand_is_finished_and_committed_when_the_intake_stops(
    broker: Any,
) -> None:
    topic, group, _ = await _filled_topic(broker, "intake-stop", "held", 12)

    stop = asyncio.Event()
    entered = asyncio.Event()
    release = asyncio.Event()
    handled: list[bytes] = []

    async def slow(batch: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Any]:
        entered.set()
        await release.wait()  # stop is requested while this batch is in hand
        handled.extend(r.value for r in batch)
        return []

    task = asyncio.create_task(Intake(broker.bootstrap, topic, group, slow, TUNING).run(stop))
    await asyncio.wait_for(entered.wait(), timeout=60)
    stop.set()
    release.set()
    await asyncio.wait_for(task, timeout=30)
    committed = await _committed(broker.bootstrap, group, topic)
    # What the stopped intake handled is exactly what it committed.
    assert handled
    assert sum(max(offset, 0) for offset in committed.values()) == len(handled)


async def test_commit_waits_for_acknowledgements_and_a_failed_one_rereads_the_batch(
    broker: Any,
) -> None:
    topic, group, records = await _filled_topic(broker, "intake-ack", "acked", 16)

    seen_at_ack: list[dict[int, int]] = []
    handled: list[bytes] = []
    done = asyncio.Event()
    acks = 0

    async def acknowledgement() -> None:
        nonlocal acks
        acks += 1
        # Runs before the commit: the group has committed nothing of this batch yet.
        seen_at_ack.append(await _committed(broker.bootstrap, group, topic))
        if acks == 1:
            raise RuntimeError("the broker did not acknowledge a match")

    async def handler(batch: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Any]:
        handled.extend(r.value for r in batch)
        if len(set(handled)) >= len(records):
            done.set()
        return [acknowledgement()]

    stop = asyncio.Event()
    task = asyncio.create_task(Intake(broker.bootstrap, topic, group, handler, TUNING).run(stop))
    await asyncio.wait_for(done.wait(), timeout=60)
    # Wait for the batch's commit: the group's offsets reach the end of the topic.
    ends = await _end_offsets(broker.bootstrap, topic)
    for _ in range(600):
        if await _committed(broker.bootstrap, group, topic) == ends:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=30)

    assert await _committed(broker.bootstrap, group, topic) == ends
    assert seen_at_ack[0] == {p: -1 for p in range(PARTITIONS)}  # nothing committed at first
    assert acks >= 2  # the failed acknowledgement made the batch read again
    assert sorted(set(handled)) == sorted(v for _, v in records)


def test_a_worker_without_articles_partitions_is_live_but_not_ready(
    broker: Any, tmp_path: Path
) -> None:
    """More workers than partitions: both join both groups, one holds the only articles
    partition and is ready, the other is live but says it holds none instead of being ready."""
    names = unique_names("standby")
    env = {**names, "NEWSALERT_PARTITIONS": "1", "NEWSALERT_CONSOLE_ALERTS": "false"}
    first = WorkerProcess(broker.bootstrap, tmp_path, env).start()
    second = WorkerProcess(broker.bootstrap, tmp_path, env)
    try:
        second.start(timeout=120, until=lambda body: body["articles_group_joined"]
                     and body["partitions_assigned"] and body["rules_watched"])

        def settled() -> list[dict[str, Any]] | None:
            bodies = [w.readyz() or {} for w in (first, second)]
            holders = [b.get("articles_assigned") for b in bodies]
            return bodies if sorted(holders, key=bool) == [False, True] else None

        bodies = wait_for(settled, 120, "one worker holding the articles partition")
        assert bodies is not None
        standby = next(b for b in bodies if not b["articles_assigned"])
        holder = next(b for b in bodies if b["articles_assigned"])
        assert standby["ready"] is False and standby["articles_group_joined"] is True
        assert holder["ready"] is True
        assert first.get("/healthz")[0] == second.get("/healthz")[0] == 200
    finally:
        second.stop()
        first.stop()
