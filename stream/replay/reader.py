"""Read a topic range with a throw-away consumer and merge its partitions in timestamp order.

The consumer has no group: it commits nothing, joins nothing, and so cannot disturb the
production consumer group. Memory stays bounded whatever the range: each partition keeps at
most ``buffer`` records waiting for the merge and leaves the fetch assignment while its buffer
is full.

The range is fixed before the first record is read:

- **End.** The end of each partition is captured at start, so a replay of a live topic stops
  by itself. It is the larger of the listed end offset and the high watermark of the first
  fetch response, because the embedded broker (Tansu) lists the *base offset of the last batch
  plus one* as the end offset, which is short of the real end whenever that batch holds more
  than one record. Fetch responses carry the true high watermark on both brokers.
- **Start by time.** ``--since`` asks the broker for offsets by timestamp, then checks the
  answer: the record just before the answer must be stamped before ``--since``; if not, the
  answer was too late and the partition is scanned from the beginning. Records stamped before
  ``--since`` are then skipped up to the first that is not (Kafka's own rule: the earliest
  offset whose timestamp is at or after the time), which also corrects an answer that was too
  early. Tansu answers by its own append time at batch granularity, and with offset 0 when
  nothing qualifies, so on Tansu these checks are what makes ``--since`` correct.
- **Stop by time.** ``--until`` is looked up the same way and kept only if the record at the
  answer is stamped at or after ``--until``; reading also stops at the first such record.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stream.replay.model import ReplayError, SourceRecord, TopicRange

__all__ = ["ConsumerLike", "PartitionPlan", "TopicReader", "file_records"]


class ConsumerLike(Protocol):
    """The part of kafka-python's ``KafkaConsumer`` a replay uses (a seam for unit tests)."""

    def partitions_for_topic(self, topic: str) -> set[int] | None: ...
    def beginning_offsets(self, partitions: Sequence[Any]) -> Mapping[Any, int]: ...
    def end_offsets(self, partitions: Sequence[Any]) -> Mapping[Any, int]: ...
    def offsets_for_times(self, timestamps: Mapping[Any, int]) -> Mapping[Any, Any]: ...
    def assign(self, partitions: Sequence[Any]) -> None: ...
    def seek(self, partition: Any, offset: int) -> None: ...
    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> Mapping[Any, Any]: ...
    def position(self, partition: Any) -> int: ...
    def highwater(self, partition: Any) -> int | None: ...
    def close(self) -> None: ...


@dataclass
class PartitionPlan:
    """One partition's range, how it was decided, and what reading it found."""

    partition: int
    start: int
    stop: int
    beginning: int
    end: int
    notes: list[str] = field(default_factory=list)
    read: int = 0
    skipped_before_since: int = 0


def file_records(path: Path) -> Iterator[SourceRecord]:
    """Lines of a JSON-lines file as records; the offset is the line number."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                yield SourceRecord(None, number, None, raw)


def _tp(topic: str, partition: int) -> Any:
    from kafka import TopicPartition

    return TopicPartition(topic, partition)


class TopicReader:
    """Iterate a topic range once, in timestamp order across partitions.

    ``consumer`` may be given (tests); otherwise a group-less kafka-python consumer is made
    and closed at the end. ``plans`` describes each partition once iteration has started.
    """

    def __init__(
        self,
        bootstrap: str | None,
        topic: str,
        span: TopicRange,
        *,
        consumer: ConsumerLike | None = None,
        buffer: int = 500,
        idle_timeout_s: float = 30.0,
        poll_ms: int = 200,
    ) -> None:
        if consumer is None and not bootstrap:
            raise ReplayError("no Kafka bootstrap: set --bootstrap or NEWSALERT_KAFKA_BOOTSTRAP")
        self.bootstrap = bootstrap
        self.topic = topic
        self.span = span
        self.plans: list[PartitionPlan] = []
        self._given = consumer
        self._buffer = max(1, buffer)
        self._idle_timeout_s = idle_timeout_s
        self._poll_ms = poll_ms

    def _make_consumer(self) -> ConsumerLike:
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        try:
            consumer: ConsumerLike = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id="newsalert-replay",
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=1 << 20,
            )
        except KafkaError as exc:
            raise ReplayError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
        return consumer

    def __iter__(self) -> Iterator[SourceRecord]:
        consumer = self._given or self._make_consumer()
        try:
            self.plans = self._plan(consumer)
            yield from self._merge(consumer)
        finally:
            if self._given is None:
                consumer.close()

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, consumer: ConsumerLike) -> list[PartitionPlan]:
        found = consumer.partitions_for_topic(self.topic)
        if not found:
            raise ReplayError(f"topic {self.topic!r} does not exist (or has no partitions)")
        span = self.span
        if span.offsets is not None:
            unknown = sorted(set(span.offsets) - found)
            if unknown:
                raise ReplayError(
                    f"topic {self.topic!r} has no partition {', '.join(map(str, unknown))} "
                    f"(it has {', '.join(map(str, sorted(found)))})"
                )
            chosen = sorted(span.offsets)
        else:
            chosen = sorted(found)
        tps = [_tp(self.topic, p) for p in chosen]
        beginning = consumer.beginning_offsets(tps)
        listed = consumer.end_offsets(tps)
        ends = self._high_watermarks(consumer, tps, beginning, listed)
        plans = []
        for tp in tps:
            start = beginning[tp]
            plan = PartitionPlan(tp.partition, start, ends[tp], beginning[tp], ends[tp])
            if listed[tp] != ends[tp]:
                plan.notes.append(
                    f"broker listed end offset {listed[tp]}, fetch high watermark "
                    f"{ends[tp]}: used {ends[tp]}"
                )
            if span.offsets is not None:
                wanted = span.offsets[tp.partition]
                plan.start = min(max(wanted, plan.beginning), plan.end)
                if plan.start != wanted:
                    plan.notes.append(
                        f"offset {wanted} is outside [{plan.beginning}, {plan.end}]: "
                        f"started at {plan.start}"
                    )
            plans.append(plan)
        by_tp = dict(zip(tps, plans, strict=True))
        if span.since_ms is not None:
            self._start_by_time(consumer, by_tp, span.since_ms)
        if span.until_ms is not None:
            self._stop_by_time(consumer, by_tp, span.until_ms)
        for plan in plans:
            plan.stop = max(plan.stop, plan.start)
        return plans

    def _high_watermarks(
        self,
        consumer: ConsumerLike,
        tps: list[Any],
        beginning: Mapping[Any, int],
        listed: Mapping[Any, int],
    ) -> dict[Any, int]:
        """The end of each partition: the listed end, raised to the first fetch's watermark."""
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, max(listed[tp], beginning[tp]))
        deadline = time.monotonic() + self._idle_timeout_s
        while any(consumer.highwater(tp) is None for tp in tps):
            if time.monotonic() > deadline:
                missing = [tp.partition for tp in tps if consumer.highwater(tp) is None]
                raise ReplayError(
                    f"no fetch answer for {self.topic} partitions {missing} within "
                    f"{self._idle_timeout_s:.0f}s"
                )
            consumer.poll(timeout_ms=self._poll_ms, max_records=1)
        return {tp: max(listed[tp], int(consumer.highwater(tp) or 0)) for tp in tps}

    def _probe(
        self, consumer: ConsumerLike, wanted: dict[Any, int], ends: Mapping[Any, int]
    ) -> dict[Any, Any]:
        """The first record at or after each wanted offset (None past the end)."""
        found: dict[Any, Any] = {tp: None for tp in wanted}
        todo = {tp for tp, offset in wanted.items() if offset < ends[tp]}
        if not todo:
            return found
        consumer.assign(sorted(todo, key=lambda tp: tp.partition))
        for tp in todo:
            consumer.seek(tp, wanted[tp])
        deadline = time.monotonic() + self._idle_timeout_s
        while todo:
            if time.monotonic() > deadline:
                raise ReplayError(
                    f"could not read {self.topic} partitions "
                    f"{sorted(tp.partition for tp in todo)} to check a time lookup"
                )
            for tp, records in consumer.poll(timeout_ms=self._poll_ms).items():
                if tp in todo:
                    first = next((r for r in records if r.offset >= wanted[tp]), None)
                    if first is not None:
                        found[tp] = first
                        todo.discard(tp)
            for tp in list(todo):
                if consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
        return found

    def _lookup(self, consumer: ConsumerLike, plans: dict[Any, PartitionPlan], ms: int) -> dict[
        Any, int
    ]:
        """The broker's offset for time ``ms`` per partition; no answer means the end."""
        answers = consumer.offsets_for_times({tp: ms for tp in plans})
        result = {}
        for tp, plan in plans.items():
            answer = answers.get(tp)
            offset = plan.end
            if answer is not None and answer.timestamp >= 0:
                offset = int(answer.offset)
            result[tp] = min(max(offset, plan.beginning), plan.end)
        return result

    def _start_by_time(
        self, consumer: ConsumerLike, plans: dict[Any, PartitionPlan], since_ms: int
    ) -> None:
        looked = self._lookup(consumer, plans, since_ms)
        ends = {tp: plan.end for tp, plan in plans.items()}
        before = {tp: o - 1 for tp, o in looked.items() if o > plans[tp].beginning}
        previous = self._probe(consumer, before, ends)
        for tp, plan in plans.items():
            plan.start = looked[tp]
            record = previous.get(tp)
            if record is not None and record.offset < looked[tp] and record.timestamp >= since_ms:
                plan.notes.append(
                    f"offset-for-time answer {looked[tp]} is too late (offset {record.offset} "
                    f"is stamped at or after --since): scanned from offset {plan.beginning}"
                )
                plan.start = plan.beginning

    def _stop_by_time(
        self, consumer: ConsumerLike, plans: dict[Any, PartitionPlan], until_ms: int
    ) -> None:
        looked = self._lookup(consumer, plans, until_ms)
        ends = {tp: plan.end for tp, plan in plans.items()}
        at = {tp: o for tp, o in looked.items() if o < plans[tp].end}
        records = self._probe(consumer, at, ends)
        for tp, plan in plans.items():
            if tp not in at:
                continue
            record = records.get(tp)
            if record is None or record.timestamp < until_ms:
                plan.notes.append(
                    f"offset-for-time answer {looked[tp]} for --until is too early: read to "
                    f"the end offset {plan.end} and stopped by record timestamps"
                )
            else:
                plan.stop = looked[tp]

    # -- reading ----------------------------------------------------------------------------

    def _merge(self, consumer: ConsumerLike) -> Iterator[SourceRecord]:
        span = self.span
        cursors = {
            _tp(self.topic, plan.partition): _Cursor(plan, span.since_ms, span.until_ms)
            for plan in self.plans
            if plan.start < plan.stop
        }
        if not cursors:
            return
        # Flow control by assignment: a partition whose buffer is full leaves the assignment
        # and comes back (seeked to where it stopped) once half its buffer is used. (Pausing
        # is not used: kafka-python 3.0 parks a paused partition's fetched data and, after a
        # resume, may never fetch that partition again.)
        high, low = self._buffer, self._buffer // 2
        assigned = set(cursors)
        consumer.assign(sorted(assigned, key=lambda tp: tp.partition))
        for tp, cursor in cursors.items():
            consumer.seek(tp, cursor.plan.start)
        last_progress = time.monotonic()
        while True:
            while True:
                live = [c for c in cursors.values() if c.buffer or not c.done]
                if not live:
                    return
                if any(not c.buffer for c in live):
                    break
                best = min(live, key=_head_order)
                yield best.buffer.popleft()
            wanted = {
                tp for tp, c in cursors.items()
                if not c.done and len(c.buffer) < (high if tp in assigned else low + 1)
            }
            if wanted != assigned:
                consumer.assign(sorted(wanted, key=lambda tp: tp.partition))
                for tp in wanted - assigned:
                    consumer.seek(tp, cursors[tp].next_offset)
                assigned = wanted
            progressed = False
            for tp, records in consumer.poll(timeout_ms=self._poll_ms, max_records=high).items():
                owner = cursors.get(tp)
                if owner is None or tp not in assigned:
                    continue
                for record in records:
                    owner.accept(record)
                progressed = progressed or bool(records)
            for tp in assigned:
                cursor = cursors[tp]
                if not cursor.done and consumer.position(tp) >= cursor.plan.stop:
                    cursor.done = progressed = True
            now = time.monotonic()
            if progressed:
                last_progress = now
            elif now - last_progress > self._idle_timeout_s:
                stalled = {
                    tp.partition: (consumer.position(tp), cursors[tp].plan.stop)
                    for tp in assigned if not cursors[tp].done
                }
                raise ReplayError(
                    f"reading {self.topic} stalled for {self._idle_timeout_s:.0f}s: "
                    f"partition: (position, end) {stalled}"
                )


class _Cursor:
    """One partition's filter and buffer: offsets in [start, stop), times in range."""

    __slots__ = ("buffer", "done", "next_offset", "plan", "since_ms", "skipping", "until_ms")

    def __init__(self, plan: PartitionPlan, since_ms: int | None, until_ms: int | None) -> None:
        self.plan = plan
        self.next_offset = plan.start
        self.buffer: deque[SourceRecord] = deque()
        self.done = False
        self.since_ms = since_ms
        self.skipping = since_ms is not None
        self.until_ms = until_ms

    def accept(self, record: Any) -> None:
        plan = self.plan
        offset = int(record.offset)
        if self.done or offset < self.next_offset:
            return  # before the start (a fetch inside a batch) or seen before a re-assign
        self.next_offset = offset + 1
        if offset >= plan.stop:
            self.done = True
            return
        stamp = int(record.timestamp)
        if self.until_ms is not None and stamp >= self.until_ms:
            self.done = True
            return
        if offset >= plan.stop - 1:
            self.done = True
        if self.skipping:
            if stamp < (self.since_ms or 0):
                plan.skipped_before_since += 1
                return
            self.skipping = False
        plan.read += 1
        self.buffer.append(SourceRecord(plan.partition, offset, stamp, record.value))


def _head_order(cursor: _Cursor) -> tuple[int, int, int]:
    head = cursor.buffer[0]
    return (head.timestamp_ms or 0, cursor.plan.partition, head.offset)
