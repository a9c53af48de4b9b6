"""The demo commands in docs/delivery.md: the local Slack API and webhook receiver run
standalone, and the worker's sinks talk to them."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from stream.delivery.slack import SlackSink, make_client
from stream.delivery.webhook import WebhookSink
from stream.models import Alert, Article, Match

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + "ZGVtby1zZXJ2ZXItc2VjcmV0"


def _alert() -> Alert:
    article = Article(id="demo-1", title="Armenia skips the bloc summit", body="A short note.")
    match = Match(
        rule_id="csto-member-skips-summit",
        rule_name="CSTO member skips a summit",
        rule_version="v1",
        severity="high",
        entity="Armenia",
        title="Armenia skips the CSTO summit",
    )
    return Alert.from_match(match, article, now=datetime(2026, 5, 1, tzinfo=UTC))


@asynccontextmanager
async def _script(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield proc
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=10)


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode().rstrip()


async def test_standalone_slack_server() -> None:
    args = ("tests/support/slack_server.py", "--port", "0", "--channel", "alerts")
    async with _script(*args, "--token", "xoxb-demo") as proc:
        banner = await _line(proc)
        assert banner.startswith("slack api at http://127.0.0.1:")
        base_url = banner.split()[3]
        sink = SlackSink("demo", "#alerts", make_client("xoxb-demo", base_url))
        receipt = await sink.send(_alert(), None)
        assert receipt.channel == "C00000001"
        assert await _line(proc) == "[C00000001] [HIGH] Armenia: Armenia skips the CSTO summit"


async def test_standalone_webhook_receiver() -> None:
    args = ("tests/support/webhook_receiver.py", "--port", "0", "--secret", SECRET)
    async with _script(*args) as proc:
        banner = await _line(proc)
        assert banner.startswith("webhook receiver at http://127.0.0.1:")
        sink = WebhookSink("demo", banner.split()[-1], secret=SECRET, allow_private=True)
        await sink.send(_alert(), None)
        await sink.aclose()
        lines = [await _line(proc)]
        while lines[-1] != "}":  # the receiver prints indented JSON; "}" closes it
            lines.append(await _line(proc))
        text = "\n".join(lines)
        assert json.loads(text)["id"] == _alert().id
