"""Apache Kafka helper without a JVM: its configuration, jar cache, Java lookup and the
process-group shutdown (exercised on real ``sh``/``sleep`` processes instead of Kafka)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stream.broker.apache import (
    ApacheKafka,
    default_jars_dir,
    fetch_jars,
    find_java,
    new_cluster_id,
    render_server_properties,
)
from stream.errors import BrokerError, NewsalertError


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("process.roles", "broker,controller"),
        ("node.id", "1"),
        ("listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"),
        ("advertised.listeners", "PLAINTEXT://127.0.0.1:9092"),
        ("controller.quorum.bootstrap.servers", "127.0.0.1:9093"),
        ("controller.listener.names", "CONTROLLER"),
        ("log.dirs", "/var/tmp/kafka-data"),
        ("offsets.topic.replication.factor", "1"),
        ("transaction.state.log.replication.factor", "1"),
        ("transaction.state.log.min.isr", "1"),
        ("group.initial.rebalance.delay.ms", "0"),
        ("auto.create.topics.enable", "false"),
    ],
)
def test_server_properties_single_loopback_node(key: str, expected: str) -> None:
    text = render_server_properties(
        host="127.0.0.1", port=9092, controller_port=9093, data_dir=Path("/var/tmp/kafka-data")
    )
    assert _props(text)[key] == expected


def test_server_properties_extra_overrides_and_adds() -> None:
    text = render_server_properties(
        host="127.0.0.1",
        port=1,
        controller_port=2,
        data_dir=Path("/d"),
        extra={"num.partitions": "4", "log.retention.ms": "60000"},
    )
    props = _props(text)
    assert props["num.partitions"] == "4"
    assert props["log.retention.ms"] == "60000"
    assert [line for line in text.splitlines() if line.startswith("num.partitions=")] == [
        "num.partitions=4"
    ]


def test_cluster_id_is_22_url_safe_chars_of_16_random_bytes() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cid in ids:
        assert len(cid) == 22 and "=" not in cid
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"NEWSALERT_KAFKA_JARS": "/opt/kafka/libs"}, Path("/opt/kafka/libs")),
        ({"XDG_CACHE_HOME": "/c"}, Path("/c/newsalert/kafka-9.9.9")),
        ({"HOME": "/h"}, Path("/h/.cache/newsalert/kafka-9.9.9")),
    ],
)
def test_jar_cache_location(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: Path
) -> None:
    for name in ("NEWSALERT_KAFKA_JARS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_jars_dir("9.9.9") == expected


def test_complete_cache_is_used_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kafka_2.13-9.9.9.jar").write_bytes(b"")
    (tmp_path / ".complete").write_text("kafka_2.13-9.9.9.jar\n")
    monkeypatch.setenv("PATH", "")  # no mvn: it must not be needed
    assert fetch_jars("9.9.9", tmp_path) == tmp_path


def test_a_jar_directory_the_user_points_at_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kafka_2.13-9.9.9.jar").write_bytes(b"")
    monkeypatch.setenv("NEWSALERT_KAFKA_JARS", str(tmp_path))
    monkeypatch.setenv("PATH", "")  # nothing to fetch, so no Maven either
    assert fetch_jars("9.9.9") == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kafka_2.13-9.9.9.jar"]


def test_missing_maven_is_an_actionable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BrokerError, match="Maven is missing"):
        fetch_jars("9.9.9", tmp_path / "jars")


def test_missing_pom_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="to fetch them with"):
        fetch_jars("9.9.9", tmp_path / "jars", pom=tmp_path / "absent.xml")


def test_failed_fetch_leaves_no_cache_that_later_runs_would_trust(tmp_path: Path) -> None:
    if shutil.which("mvn") is None:
        pytest.skip("Maven is missing: tests/kafka/setup.sh installs it")
    broken = tmp_path / "pom.xml"
    broken.write_text("<project>this is not a valid model</project>\n")
    dest = tmp_path / "cache" / "kafka-9.9.9"
    with pytest.raises(BrokerError, match="mvn could not fetch"):
        fetch_jars("9.9.9", dest, pom=broken, timeout=120)
    assert not dest.exists()
    leftovers = [p.name for p in dest.parent.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_java_home_wins_over_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert find_java() == str(java)


def test_missing_java_is_an_actionable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BrokerError, match="Java 17") as info:
        find_java()
    assert isinstance(info.value, NewsalertError) and isinstance(info.value, RuntimeError)


def test_construction_fixes_ports_and_paths() -> None:
    broker = ApacheKafka()
    try:
        assert broker.bootstrap == f"127.0.0.1:{broker.port}"
        assert broker.port != broker.controller_port
        assert broker.log_path.parent == broker.workdir and broker.workdir.is_dir()
        assert not broker.running and broker.pid is None
        broker.stop()  # stopping what never started is a no-op
    finally:
        broker.close()
    assert not broker.workdir.exists()


def test_start_without_java_fails_and_keeps_the_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jars = tmp_path / "jars"
    jars.mkdir()
    (jars / ".complete").write_text("")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    broker = ApacheKafka(jars=jars)
    with pytest.raises(BrokerError, match="Java 17"):
        broker.start(timeout=5)
    assert broker.failed
    broker.close()
    assert broker.workdir.exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _adopt(broker: ApacheKafka, script: str) -> tuple[subprocess.Popen[bytes], int]:
    """Give ``broker`` a real process group to stop: ``sh`` leading a background ``sleep``."""
    proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    broker._proc = proc
    return proc, child


@pytest.mark.parametrize(
    ("script", "forced"),
    [
        ("sleep 60 & echo $!; wait", False),
        ("trap '' TERM; sleep 60 & echo $!; wait", True),  # ignores SIGTERM: SIGKILL follows
    ],
)
def test_stop_ends_the_whole_process_group(script: str, forced: bool) -> None:
    broker = ApacheKafka()
    try:
        proc, child = _adopt(broker, script)
        broker.stop(timeout=1.0)
        assert proc.returncode is not None
        # The grandchild is reparented away from us, so it may linger as a zombie briefly;
        # what matters is that it was signalled: a zombie reads as state Z in /proc.
        if _alive(child):
            state = Path(f"/proc/{child}/stat").read_text().split()[2]
            assert state == "Z"
        assert broker.failed is forced
        broker.stop()  # idempotent
    finally:
        broker.close()
