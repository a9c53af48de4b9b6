"""Apache Kafka, the reference broker, run from its Maven Central jars for tests and benchmarks.

The embedded broker is for the first five minutes; users run Apache Kafka. So the integration
suite can run the same tests on both, this module gives Apache Kafka the same small shape as
:class:`stream.broker.tansu.EmbeddedBroker`: ``bootstrap``, ``start()``, ``stop()``, a context
manager. It needs Java 17+ and, the first time only, Maven (``mvn``) to fetch the jars with
``tests/kafka/pom.xml``; they are cached per version and never fetched again.

The broker is a KRaft single node (broker and controller in one JVM) on free loopback ports,
with topic auto-creation off so it is as strict as Tansu. Ports and the data directory are fixed
at construction, so ``stop()`` then ``start()`` restarts the same broker with its data: tests of
worker reconnection rely on that. The workdir is removed by ``close()`` unless something failed,
in which case ``server.log`` stays for the post-mortem.

From a shell: ``python -m stream.broker.apache`` runs one in the foreground (Ctrl-C stops it);
``python -m stream.broker.apache --fetch-only`` just fills the jar cache.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from stream.broker.jars import KAFKA_VERSION, default_jars_dir, fetch_jars, find_java
from stream.broker.tansu import free_port
from stream.errors import BrokerError

__all__ = [
    "KAFKA_VERSION",
    "ApacheKafka",
    "default_jars_dir",
    "fetch_jars",
    "find_java",
    "new_cluster_id",
    "render_server_properties",
]

log = logging.getLogger(__name__)

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
"""


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")


def render_server_properties(
    *,
    host: str,
    port: int,
    controller_port: int,
    data_dir: Path,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The ``server.properties`` of a single-node KRaft broker bound to loopback only.

    Replication factors are 1 because there is one node; topic auto-creation is off because
    the worker must create its topics itself, as it must on Tansu; the initial rebalance delay
    is 0 so a consumer group forms as soon as its member joins, which keeps tests quick.
    """
    props: dict[str, str] = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
    }
    props.update(extra or {})
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- {path} (tail) ---\n" + "\n".join(text)


def _metadata_ok(bootstrap: str) -> bool:
    """True when the broker answers a DescribeCluster request with itself unfenced."""
    from kafka import KafkaAdminClient  # deferred: only needed once a port is open

    wanted = {"request_timeout_ms": 3000, "bootstrap_timeout_ms": 3000, "client_id": "newsalert"}
    known = KafkaAdminClient.DEFAULT_CONFIG  # kafka-python 2.x lacks bootstrap_timeout_ms
    config = {key: value for key, value in wanted.items() if key in known}
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, **config)
    except Exception:
        return False
    try:
        cluster = admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        admin.close()


def _exited_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` for ``pid`` to exit, without reaping it (``WNOWAIT``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)  # a signalled JVM gives no event to wait on but its exit


class ApacheKafka:
    """One Apache Kafka KRaft node on loopback, owned by this object for its whole life."""

    def __init__(
        self,
        workdir: Path | None = None,
        port: int | None = None,
        *,
        controller_port: int | None = None,
        version: str = KAFKA_VERSION,
        jars: Path | None = None,
        heap: str = "512m",
        config: Mapping[str, str] | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.controller_port = controller_port or free_port(self.host)
        self.version = version
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="newsalert-kafka-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        self._jars = jars
        self._heap = heap
        self._config = dict(config or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self.failed = False

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 90.0) -> None:
        """Start (or restart) the broker and return once it serves metadata requests."""
        if self.running:
            return
        deadline = time.monotonic() + timeout
        try:
            jars = fetch_jars(self.version, self._jars)
            java = find_java()
            properties = self._write_config()
            self._format(java, jars, properties, max(1.0, deadline - time.monotonic()))
            self._launch(java, jars, properties)
            self._wait_ready(deadline, timeout)
        except BaseException:
            self.failed = True
            self.stop()
            raise

    def _write_config(self) -> Path:
        text = render_server_properties(
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            data_dir=self.workdir / "data",
            extra=self._config,
        )
        properties = self.workdir / "server.properties"
        properties.write_text(text)
        (self.workdir / "log4j2.properties").write_text(_LOG4J2)
        return properties

    def _format(self, java: str, jars: Path, properties: Path, timeout: float) -> None:
        # A formatted log directory is kept across stop()/start(): formatting is only for a
        # fresh one, and formatting twice would be refused by the tool anyway.
        if (self.workdir / "data" / "meta.properties").exists():
            return
        cmd = [
            java, "-Xmx256m", "-cp", f"{jars}/*", "kafka.tools.StorageTool", "format",
            # One token: an id may begin with "-", which the tool would read as an option.
            f"--cluster-id={new_cluster_id()}", "-c", str(properties), "--standalone",
        ]  # fmt: skip
        with open(self.log_path, "ab") as out:
            try:
                done = subprocess.run(
                    cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise BrokerError("formatting the KRaft log directory timed out") from exc
        if done.returncode != 0:
            raise BrokerError(
                f"formatting the KRaft log directory failed ({done.returncode})"
                + _tail(self.log_path)
            )

    def _launch(self, java: str, jars: Path, properties: Path) -> None:
        cmd = [
            java, f"-Xmx{self._heap}", "-Xms128m", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.workdir / 'logs'}",
            "-cp", f"{jars}/*", "kafka.Kafka", str(properties),
        ]  # fmt: skip
        log.info("starting Apache Kafka %s on %s", self.version, self.bootstrap)
        with open(self.log_path, "ab") as out:
            # Its own session: Ctrl-C in a terminal reaches us, not the JVM, and stop() can
            # signal the whole group so nothing the JVM spawned outlives it.
            self._proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.workdir, start_new_session=True,
            )  # fmt: skip

    def _wait_ready(self, deadline: float, timeout: float) -> None:
        proc = self._proc
        assert proc is not None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerError(
                    f"Apache Kafka exited with status {proc.returncode} before it was ready"
                    + _tail(self.log_path)
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0):
                    pass
            except OSError:
                # Nothing to wait on but the port: a short bounded pause between probes.
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                continue
            if _metadata_ok(self.bootstrap):
                return
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        raise BrokerError(
            f"Apache Kafka at {self.bootstrap} not ready after {timeout:.0f}s"
            + _tail(self.log_path)
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the broker: SIGTERM to its process group, then SIGKILL if it lingers.

        The JVM is left unreaped (a zombie still owns its process-group id) until the final
        SIGKILL to the group, so that signal can only reach processes this broker started.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            if not _exited_unreaped(proc.pid, timeout):
                log.warning("Apache Kafka ignored SIGTERM for %.0fs; killing it", timeout)
                self.failed = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)

    def close(self) -> None:
        """Stop and remove a workdir we created, unless something failed: then keep the log."""
        self.stop()
        if self._owns_workdir and not self.failed:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.failed:
            log.warning("Apache Kafka workdir kept for inspection: %s", self.workdir)

    def __enter__(self) -> ApacheKafka:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.failed = True
        self.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m stream.broker.apache``: a broker in the foreground until Ctrl-C or SIGTERM."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m stream.broker.apache",
        description="Run Apache Kafka (KRaft, single node) on loopback from cached jars.",
    )
    parser.add_argument("--port", type=int, default=None, help="client port (default: free)")
    parser.add_argument("--workdir", type=Path, default=None, help="data and log directory")
    parser.add_argument("--version", default=KAFKA_VERSION, help="Apache Kafka version")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to become ready")
    parser.add_argument("--fetch-only", action="store_true", help="fill the jar cache and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.fetch_only:
            started = time.monotonic()
            jars = fetch_jars(args.version)
            print(f"{jars} ({time.monotonic() - started:.1f}s)", flush=True)
            return 0
        broker = ApacheKafka(args.workdir, args.port, version=args.version)
        # SIGTERM takes the same clean path as Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        started = time.monotonic()
        try:
            broker.start(args.timeout)
            print(broker.bootstrap, flush=True)
            log.info(
                "ready in %.1fs; log: %s; Ctrl-C stops", time.monotonic() - started, broker.log_path
            )
            proc = broker._proc
            assert proc is not None
            status = proc.wait()
            broker.failed = True
            log.error(
                "Apache Kafka exited on its own (status %s)%s", status, _tail(broker.log_path)
            )
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            broker.close()
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
