"""The tuned transport: fetch settings reach the consumer, and it knows where to seek back."""

from __future__ import annotations

from typing import Any

import faust
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from stream.app import fetch_max_wait_ms
from stream.settings import Settings
from stream.transport import (
    FetchTuning,
    TransportError,
    TunedTransport,
    apply_tuning,
    first_unfinished,
    install_transport,
)


def _app() -> Any:
    app = faust.App("transport-test", broker="kafka://127.0.0.1:9", autodiscover=False)
    install_transport(app, FetchTuning(max_wait_ms=77, max_bytes=123_456))
    return app


@pytest.mark.parametrize(
    ("override", "embedded", "expected"),
    [
        (None, True, 100),
        (None, False, 1500),
        (20, True, 20),
        (250, False, 250),
    ],
)
def test_fetch_wait_is_short_on_the_embedded_broker_unless_set(
    override: int | None, embedded: bool, expected: int
) -> None:
    settings = Settings(fetch_max_wait_ms=override)
    assert fetch_max_wait_ms(settings, embedded=embedded) == expected


async def test_the_worker_consumer_is_built_with_the_tuning() -> None:
    app = _app()
    assert isinstance(app.transport, TunedTransport)
    thread = app.consumer._thread
    consumer = thread._create_worker_consumer(app.transport)
    try:
        # aiokafka builds its fetcher from these when the consumer starts.
        assert consumer._fetch_max_wait_ms == 77
        assert consumer._fetch_max_bytes == 123_456
        assert consumer._group_id == "transport-test"  # Faust's own settings still apply
    finally:
        await consumer.stop()


def test_an_aiokafka_without_the_attributes_fails_loudly() -> None:
    class Renamed:
        _fetch_max_bytes = 1

    with pytest.raises(TransportError, match="_fetch_max_wait_ms"):
        apply_tuning(Renamed(), FetchTuning(max_wait_ms=5))  # type: ignore[arg-type]



@pytest.mark.parametrize(
    ("first", "acked", "gaps", "expected"),
    [
        (None, [], [], 0),  # nothing handed on: the beginning
        (0, [], [], 0),  # handed on, nothing finished
        (0, [0, 1, 2], [], 3),
        (0, [2, 0, 5, 1], [], 3),  # out of order; 5 is read again after 3 and 4
        (40, [40, 41], [], 42),  # the partition started past 0 (retention)
        (0, [0, 1, 4], [range(2, 4)], 5),  # offsets the fetches skipped count as finished
        (0, [0], [range(5, 9)], 1),  # a later gap changes nothing
        (10, [10], [range(11, 1_000_000)], 1_000_000),  # a long gap is jumped, not walked
    ],
)
def test_the_first_unfinished_record(
    first: int | None, acked: list[int], gaps: list[range], expected: int
) -> None:
    assert first_unfinished(first, acked, gaps) == expected


def _record(tp: TopicPartition, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=tp.topic, partition=tp.partition, offset=offset, timestamp=0, timestamp_type=0,
        key=None, value=b"{}", checksum=None, serialized_key_size=0, serialized_value_size=2,
        headers=(),
    )


def test_the_consumer_resumes_after_what_its_streams_finished() -> None:
    consumer = _app().consumer
    alerts, matches, idle = (TopicPartition("alerts", 0), TopicPartition("matches", 1),
                             TopicPartition("alerts", 1))
    for offset in range(5):
        consumer._to_message(alerts, _record(alerts, offset))
    for offset in (7, 8):
        consumer._to_message(matches, _record(matches, offset))
    # Faust's acknowledgements: 0 and 1 finished, 2 still in an agent, 3 finished
    consumer._acked[alerts].extend([0, 1, 3])
    consumer._acked[matches].extend([7, 8])
    assert consumer.resume_points() == {alerts: 2, matches: 9}
    assert idle not in consumer.resume_points()  # nothing handed on: seek_back starts at 0


async def test_a_revoked_partition_is_forgotten() -> None:
    consumer = _app().consumer
    kept, revoked = TopicPartition("alerts", 0), TopicPartition("alerts", 1)
    for tp in (kept, revoked):
        consumer._to_message(tp, _record(tp, 3))
    await consumer.on_partitions_revoked({revoked})
    # its next owner, or this worker once it is assigned again, starts from the commit
    assert consumer.resume_points() == {kept: 3}
