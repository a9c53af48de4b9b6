"""`make run`'s command: embedded broker, worker, demo receiver, samples; Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from stream.broker import free_port
from tests.support.waiting import wait_for
from tests.support.worker import REPO


@pytest.mark.skipif(
    os.environ.get("NEWSALERT_TEST_BROKER", "embedded") != "embedded",
    reason="the demo runs on the embedded broker; covered by the embedded-broker run",
)
def test_demo_alerts_then_ctrl_c_stops_everything(tmp_path: Path) -> None:
    log_path = tmp_path / "demo.log"
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("NEWSALERT_")
    }
    env.update(
        NEWSALERT_WEB_PORT=str(free_port()),
        NEWSALERT_DATA_DIR=str(tmp_path / "data"),
        NEWSALERT_PARTITIONS="2",
        COLUMNS="200",
    )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stream", "run", "--demo"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        def output() -> str:
            return log_path.read_text(errors="replace")

        wait_for(lambda: output().count("webhook received") >= 2, 120, "two demo webhooks")
        text = output()
        assert "sample-armenia-csto-skip" in text
        assert '"entity": "Armenia"' in text
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("tansu" in c.name() for c in children), "the embedded broker runs as a child"
    finally:
        os.killpg(proc.pid, signal.SIGINT) if proc.poll() is None else None
        status = proc.wait(timeout=60)
    assert status == 0, output()[-3000:]
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
