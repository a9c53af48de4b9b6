"""The embedded broker's lifecycle: free port, readiness, explicit topics, clean shutdown."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from stream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stream.errors import BrokerError
from tests.support.waiting import wait_for


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_roundtrip_and_stop_leave_no_process(tmp_path: Path) -> None:
    broker = EmbeddedBroker(workdir=tmp_path)
    broker.start()
    pid = broker._proc.pid if broker._proc else -1
    try:
        ensure_topics(broker.bootstrap, [TopicSpec(name="roundtrip", partitions=3)])
        ensure_topics(broker.bootstrap, [TopicSpec(name="roundtrip", partitions=3)])  # idempotent
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        assert "roundtrip" in admin.list_topics()
        admin.close()
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        producer.send("roundtrip", key=b"k", value=b"hello", partition=0)
        producer.flush()
        producer.close()
        consumer = KafkaConsumer(
            bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        consumer.assign([TopicPartition("roundtrip", 0)])
        values: list[bytes] = []

        def received() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                values.extend(r.value for r in records)
            return bool(values)

        wait_for(received, 30, "the produced record")
        consumer.close()
        assert values == [b"hello"]
    finally:
        broker.stop()
    assert not broker.running
    assert not _alive(pid)
    broker.stop()  # idempotent


def test_port_in_use_fails_fast_with_the_log(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        broker = EmbeddedBroker(port=port, workdir=tmp_path)
        with pytest.raises(BrokerError) as info:
            broker.start(timeout=20)
    assert "in use" in str(info.value)
    assert not broker.running
