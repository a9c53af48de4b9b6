"""TopicReader on an in-memory consumer: ranges, merge order, and both brokers' answers.

Every case runs twice, with Apache Kafka's answers and with the embedded broker's (end offset
short of the last batch, lookups by append time), and must give the same records.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from replay_fakes import TOPIC, Batch, FakeConsumer, tp

from stream.replay import ReplayError, TopicRange, TopicReader

T0 = 1_767_000_000_000  # record timestamps, ms
APPEND = 1_800_000_000_000  # the broker's append time: later than any record stamp


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp((T0 + seconds * 1000) / 1000, UTC)


def layout() -> dict[int, list[Batch]]:
    """Three partitions; record i is stamped T0 + i s and lives in partition i % 3.

    Batches have several records so that starts and ends fall inside batches.
    """
    stamps: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for i in range(30):
        stamps[i % 3].append(T0 + i * 1000)
    out: dict[int, list[Batch]] = {}
    for p, values in stamps.items():
        out[p] = [
            Batch(tuple(values[k : k + 4]), APPEND + k * 1000) for k in range(0, len(values), 4)
        ]
    return out


def seconds(records: list[tuple[int, int, int]]) -> list[int]:
    return [(stamp - T0) // 1000 for _, _, stamp in records]


def read(mode: str, span: TopicRange, **kwargs: object) -> tuple[list[tuple[int, int, int]],
                                                                 TopicReader]:
    consumer = FakeConsumer(layout(), mode=mode)  # type: ignore[arg-type]
    reader = TopicReader(None, TOPIC, span, consumer=consumer, idle_timeout_s=5,
                         **kwargs)  # type: ignore[arg-type]
    got = [(r.partition or 0, r.offset, r.timestamp_ms or 0) for r in reader]
    return got, reader


MODES = ["kafka", "tansu"]

CASES = [
    # (what, range, seconds expected in output order)
    ("everything, merged by time", TopicRange(), list(range(30))),
    ("explicit from the beginning", TopicRange(from_beginning=True), list(range(30))),
    ("since inside a batch", TopicRange(since=at(14)), list(range(14, 30))),
    ("since between stamps", TopicRange(since=at(13) + (at(14) - at(13)) / 2),
     list(range(14, 30))),
    ("until only", TopicRange(until=at(5)), list(range(5))),
    ("since and until", TopicRange(since=at(14), until=at(20)), list(range(14, 20))),
    ("since after the last record", TopicRange(since=at(100)), []),
    ("until before the first record", TopicRange(until=at(-5)), []),
    ("offsets: listed partitions only", TopicRange(offsets={0: 4, 2: 8}),
     [12, 15, 18, 21, 24, 26, 27, 29]),
    ("offset past the end starts at the end", TopicRange(offsets={1: 99}), []),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("what", "span", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ranges_are_exact_on_both_brokers(
    mode: str, what: str, span: TopicRange, expected: list[int]
) -> None:
    got, _ = read(mode, span)
    assert seconds(got) == expected, what


@pytest.mark.parametrize("mode", MODES)
def test_end_is_the_true_end_even_when_the_broker_lists_less(mode: str) -> None:
    got, reader = read(mode, TopicRange())
    assert [plan.end for plan in reader.plans] == [10, 10, 10]
    listed_short = any("fetch high watermark" in n for p in reader.plans for n in p.notes)
    assert listed_short == (mode == "tansu")
    assert len(got) == 30


@pytest.mark.parametrize("mode", MODES)
def test_a_too_late_time_answer_falls_back_to_a_scan(mode: str) -> None:
    """Records stamped after their append time (a producer clock ahead of the broker's) are
    invisible to an append-time index: the embedded broker then answers "nothing", the
    record before that answer is stamped after --since, and the reader scans instead."""
    future = {0: [Batch((T0, APPEND + 50_000), APPEND), Batch((APPEND + 60_000,), APPEND + 1)]}
    consumer = FakeConsumer(future, mode=mode)  # type: ignore[arg-type]
    since = datetime.fromtimestamp((APPEND + 40_000) / 1000, UTC)
    reader = TopicReader(None, TOPIC, TopicRange(since=since), consumer=consumer,
                         idle_timeout_s=5)
    assert [r.offset for r in reader] == [1, 2]
    fell_back = any("too late" in note for note in reader.plans[0].notes)
    assert fell_back == (mode == "tansu")


@pytest.mark.parametrize("mode", MODES)
def test_memory_is_bounded_by_the_buffer(mode: str) -> None:
    """One slow partition (late stamps) must not let the others pile up unread."""
    batches = {
        0: [Batch(tuple(T0 + i for i in range(200)), APPEND)],
        1: [Batch(tuple(T0 + 10_000 + i for i in range(200)), APPEND)],
    }
    consumer = FakeConsumer(batches, mode=mode, per_poll=7)  # type: ignore[arg-type]
    reader = TopicReader(None, TOPIC, TopicRange(), consumer=consumer, buffer=10,
                         idle_timeout_s=5)
    worst = 0
    count = 0
    previous = -1
    for record in reader:
        count += 1
        assert (record.timestamp_ms or 0) >= previous
        previous = record.timestamp_ms or 0
        worst = max(worst, consumer.handed - count)
    assert count == 400
    assert worst <= 2 * (10 + 7), f"held {worst} records at once"
    assert consumer.assignments > 2, "the full partition left the assignment and came back"


def test_unknown_topic_and_partition_are_errors() -> None:
    consumer = FakeConsumer(layout())
    with pytest.raises(ReplayError, match="does not exist"):
        list(TopicReader(None, "nope", TopicRange(), consumer=consumer))
    with pytest.raises(ReplayError, match="no partition 7"):
        list(TopicReader(None, TOPIC, TopicRange(offsets={7: 0}), consumer=consumer))


def test_a_stalled_partition_is_reported_not_waited_on_forever() -> None:
    consumer = FakeConsumer(layout(), stall=True)
    consumer.watermarks = {}
    reader = TopicReader(None, TOPIC, TopicRange(), consumer=consumer, idle_timeout_s=0.2,
                         poll_ms=1)
    with pytest.raises(ReplayError, match="no fetch answer"):
        list(reader)


def test_no_bootstrap_and_no_consumer_is_an_error() -> None:
    with pytest.raises(ReplayError, match="bootstrap"):
        TopicReader(None, TOPIC, TopicRange())


def test_the_reader_closes_only_what_it_opened() -> None:
    consumer = FakeConsumer(layout())
    list(TopicReader(None, TOPIC, TopicRange(), consumer=consumer))
    assert not consumer.closed
    assert tp(0) in consumer.assigned
