"""Apache Kafka from jars: it starts, serves a real produce/consume, restarts with its data,
refuses to create topics on first use (like Tansu), and leaves no process behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from stream.broker.apache import ApacheKafka
from stream.errors import BrokerError
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]

if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
    pytest.skip("Java 17+ is missing: tests/kafka/setup.sh installs it", allow_module_level=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _java_pids_using(path: Path) -> list[int]:
    """Processes whose command line mentions ``path``: how we find a JVM we did not spawn."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(path).encode() in cmdline and b"kafka.Kafka" in cmdline:
            found.append(int(entry.name))
    return found


def _consume_all(bootstrap: str, topic: str, partition: int, expect: int) -> list[bytes]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got: list[bytes] = []

    def poll() -> bool:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend(r.value for r in records)
        return len(got) >= expect

    try:
        wait_for(poll, 30, f"{expect} record(s) on {topic}[{partition}]")
    finally:
        consumer.close()
    return got


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka]:
    broker = ApacheKafka(workdir=tmp_path_factory.mktemp("apache"))
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


def test_roundtrip_on_an_explicitly_created_topic(kafka: ApacheKafka) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics([NewTopic("roundtrip", num_partitions=3, replication_factor=1)])
        wait_for(lambda: "roundtrip" in admin.list_topics(), 30, "topic roundtrip listed")
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    producer.send("roundtrip", key=b"k", value=b"first record", partition=2).get(timeout=30)
    producer.close()
    assert _consume_all(kafka.bootstrap, "roundtrip", 2, 1) == [b"first record"]


def test_topics_are_not_created_on_first_use(kafka: ApacheKafka) -> None:
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap)
    try:
        # Asking for a missing topic's metadata would create it were auto-creation on.
        assert not consumer.partitions_for_topic("never-created")
    finally:
        consumer.close()
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        assert "never-created" not in admin.list_topics()
    finally:
        admin.close()


def test_restart_keeps_port_and_data(kafka: ApacheKafka) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics([NewTopic("durable", num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    producer.send("durable", value=b"kept across a restart").get(timeout=30)
    producer.close()
    old_pid, port = kafka.pid, kafka.port
    assert old_pid is not None

    kafka.stop()
    kafka.stop()  # idempotent
    assert not _alive(old_pid)
    assert not _listening(port)

    kafka.start()
    assert kafka.port == port and kafka.pid != old_pid
    assert _consume_all(kafka.bootstrap, "durable", 0, 1) == [b"kept across a restart"]


def test_close_leaves_no_process_and_removes_its_own_workdir() -> None:
    broker = ApacheKafka()
    with broker:
        pid = broker.pid
        assert pid is not None and _alive(pid)
        assert broker.log_path.exists()
    assert not _alive(pid)
    assert not _listening(broker.port) and not _listening(broker.controller_port)
    assert not broker.workdir.exists()


def test_failed_start_raises_keeps_the_log_and_leaves_no_process(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        broker = ApacheKafka(port=taken)
        with pytest.raises(BrokerError, match=r"exited with status \d+") as info:
            broker.start(timeout=60)
        assert "server.log" in str(info.value)
    assert broker.failed and not broker.running
    assert _java_pids_using(broker.workdir) == []
    broker.close()
    assert broker.log_path.exists(), "the log of a failed start is kept for the post-mortem"
    assert "Address already in use" in broker.log_path.read_text()


def test_command_line_prints_bootstrap_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stream.broker.apache", "--workdir", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()  # blocks until ready or the process exits
        host, _, port = line.rpartition(":")
        assert host == "127.0.0.1", f"unexpected first line {line!r}"
        assert _listening(int(port))
        assert _java_pids_using(tmp_path), "the JVM runs with the given workdir"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert not _listening(int(port))
    assert _java_pids_using(tmp_path) == []


def test_deployment_guide_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (REPO / "docs" / "deployment.md").read_text()
    (example,) = doc.split("```python\n")[1:]
    exec(compile(example.split("```", 1)[0], "docs/deployment.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    host, _, port = printed.rpartition(":")
    assert host == "127.0.0.1" and port.isdigit()
    assert not _listening(int(port)), "the with-block stopped the broker"
