"""Run the real worker (``newsalert run``) as a subprocess against a given broker."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from stream.broker import free_port
from tests.support.waiting import wait_for

__all__ = ["WorkerProcess", "unique_names"]

REPO = Path(__file__).resolve().parents[2]


def unique_names(prefix: str = "t") -> dict[str, str]:
    """Topic names and app id unique to one test, so tests never see each other's records."""
    tag = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return {
        "NEWSALERT_APP_ID": f"newsalert-{tag}",
        "NEWSALERT_ARTICLES_TOPIC": f"articles-{tag}",
        "NEWSALERT_MATCHES_TOPIC": f"matches-{tag}",
        "NEWSALERT_ALERTS_TOPIC": f"alerts-{tag}",
    }


class WorkerProcess:
    """One ``newsalert run`` process; ``start()`` returns once ``/readyz`` answers 200."""

    def __init__(self, bootstrap: str, workdir: Path, env: dict[str, str]) -> None:
        self.web_port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"worker-{self.web_port}.log"
        self.env = {
            **os.environ,
            "NEWSALERT_KAFKA_BOOTSTRAP": bootstrap,
            "NEWSALERT_WEB_PORT": str(self.web_port),
            "NEWSALERT_DATA_DIR": str(workdir / f"data-{self.web_port}"),
            "NEWSALERT_RULES_DIR": str(REPO / "rules"),
            "NEWSALERT_ALLOW_PRIVATE_DESTINATIONS": "true",
            "NEWSALERT_PARTITIONS": "2",
            **env,
        }
        self._proc: subprocess.Popen[bytes] | None = None

    def start(
        self, timeout: float = 90.0, until: Callable[[dict[str, Any]], bool] | None = None
    ) -> WorkerProcess:
        """Start and wait until ``until`` holds for the ``/readyz`` body (default: ready)."""
        check = until or (lambda body: bool(body["ready"]))
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "stream", "run"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(lambda: self._ready(check), timeout,
                     f"worker readiness (log: {self.log_path})")
        except AssertionError:
            self.stop()
            raise AssertionError(f"worker not ready; log tail:\n{self.log_tail()}") from None
        return self

    def _ready(self, check: Callable[[dict[str, Any]], bool]) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise AssertionError(f"worker exited early; log tail:\n{self.log_tail()}")
        body = self.readyz()
        return body is not None and check(body)

    def readyz(self) -> dict[str, Any] | None:
        """The ``/readyz`` body (503 included), or None while the worker does not answer."""
        url = f"http://127.0.0.1:{self.web_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
        except (urllib.error.URLError, OSError):
            return None
        try:
            return dict(json.loads(body))
        except ValueError:
            return None

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.web_port}{path}", timeout=5
            ) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: the crash case; nothing gets a chance to clean up."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=30)
            self._proc = None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait for a clean exit; returns the exit status."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
            return None

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            sys.stderr.write(f"--- worker log tail ---\n{self.log_tail()}\n")
        self.stop()


