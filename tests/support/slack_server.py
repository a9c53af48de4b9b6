"""A local Slack-compatible Web API server for tests and the demo.

It speaks enough of ``chat.postMessage``, ``chat.update`` and ``auth.test`` for slack-sdk's
``AsyncWebClient`` and enforces the limits that matter to a sender: the bot token, known
channels, Block Kit sizes, and per-channel rate limiting (a second message within the window
gets HTTP 429 with ``Retry-After``), so tests prove the sender copes with them.

Run it alone for a demo: ``python tests/support/slack_server.py --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

if not __package__:  # run as a script (the demo): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.loopback import LoopbackServer

__all__ = ["Posted", "SlackServer"]

BLOCKS_MAX = 50
TEXT_MAX = 40000
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10


@dataclass
class Posted:
    """One message as the server holds it (updates replace text and blocks)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def _block_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "blocks must be a list"
    if len(blocks) > BLOCKS_MAX:
        return f"{len(blocks)} blocks > {BLOCKS_MAX}"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or len(text.get("text", "")) > HEADER_MAX:
                return "header text must be plain_text of at most 150 characters"
        elif kind == "section":
            if len(block.get("text", {}).get("text", "")) > SECTION_MAX:
                return "section text over 3000 characters"
        elif kind == "context":
            elements = block.get("elements", [])
            if not elements or len(elements) > CONTEXT_ELEMENTS_MAX:
                return "context needs 1..10 elements"
        elif kind not in ("divider", "actions", "image", "rich_text"):
            return f"unknown block type {kind!r}"
    return None


class SlackServer(LoopbackServer):
    """Serve on 127.0.0.1; ``base_url`` is what ``AsyncWebClient(base_url=...)`` needs."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        channels: Mapping[str, str] | None = None,
        rate_window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
    ) -> None:
        self.token = token
        # name -> id; both are accepted as ``channel``
        self.channels = dict(channels or {"alerts": "C0ALERTS"})
        self.rate_window_s = rate_window_s
        self._clock = clock
        super().__init__(port)
        self.messages: list[Posted] = []
        self.rate_limited = 0
        self.refused: list[str] = []
        self._fail_next: list[int] = []
        self._last_post: dict[str, float] = {}
        self._ts = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` API calls with ``status`` (an outage)."""
        self._fail_next.extend([status] * count)

    def in_channel(self, channel_id: str, *, top_level: bool | None = None) -> list[Posted]:
        return [
            m
            for m in self.messages
            if m.channel == channel_id and (top_level is None or (m.thread_ts is None) == top_level)
        ]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._dispatch)

    def _channel_id(self, channel: str) -> str | None:
        name = channel.lstrip("#")
        if name in self.channels:
            return self.channels[name]
        return channel if channel in self.channels.values() else None

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if "blocks" in form:
            form["blocks"] = json.loads(form["blocks"])  # type: ignore[assignment]
        return form

    def _error(self, error: str, status: int = 200) -> web.Response:
        self.refused.append(error)
        self.changed()
        return web.json_response({"ok": False, "error": error}, status=status)

    async def _dispatch(self, request: web.Request) -> web.Response:
        if self._fail_next:
            status = self._fail_next.pop(0)
            self.changed()
            return web.Response(status=status, text="upstream trouble", content_type="text/plain")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self._error("not_authed")
        if auth.removeprefix("Bearer ") != self.token:
            return self._error("invalid_auth")
        method = request.match_info["method"]
        args = await self._args(request)
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "U0BOT", "team_id": "T0TEST"})
        if method == "chat.postMessage":
            return self._post(args)
        if method == "chat.update":
            return self._update(args)
        return self._error("unknown_method", status=404)

    def _check_content(self, args: Mapping[str, Any]) -> str | None:
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            return "no_text"
        if text is not None and len(str(text)) > TEXT_MAX:
            return "msg_too_long"
        if blocks is not None and _block_problem(blocks) is not None:
            return "invalid_blocks"
        return None

    def _post(self, args: Mapping[str, Any]) -> web.Response:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None:
            return self._error("channel_not_found")
        problem = self._check_content(args)
        if problem:
            return self._error(problem)
        now = self._clock()
        last = self._last_post.get(channel)
        if last is not None and now - last < self.rate_window_s:
            self.rate_limited += 1
            wait = max(1, math.ceil(self.rate_window_s - (now - last)))
            self.changed()
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not any(
            m.ts == thread_ts and m.channel == channel for m in self.messages
        ):
            return self._error("thread_not_found")
        self._last_post[channel] = now
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.messages.append(
            Posted(
                channel=channel,
                ts=ts,
                text=str(args.get("text") or ""),
                blocks=list(args.get("blocks") or []),
                thread_ts=str(thread_ts) if thread_ts else None,
            )
        )
        self.changed()
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    def _update(self, args: Mapping[str, Any]) -> web.Response:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None:
            return self._error("channel_not_found")
        target = next(
            (m for m in self.messages if m.channel == channel and m.ts == args.get("ts")), None
        )
        if target is None:
            return self._error("message_not_found")
        problem = self._check_content(args)
        if problem:
            return self._error(problem)
        target.history.append({"text": target.text, "blocks": target.blocks})
        target.text = str(args.get("text") or "")
        target.blocks = list(args.get("blocks") or [])
        target.updates += 1
        self.changed()
        return web.json_response({"ok": True, "channel": channel, "ts": target.ts})


async def _serve(port: int, token: str, channels: list[str]) -> None:
    mapping = {name: f"C{i:08d}" for i, name in enumerate(channels, 1)}
    server = SlackServer(token=token, channels=mapping, port=port)
    await server.start()
    print(f"slack api at {server.base_url} token={token} channels={mapping}", flush=True)
    seen = 0
    while True:
        await server.wait_for(lambda n=seen: len(server.messages) > n, timeout=math.inf)
        for message in server.messages[seen:]:
            where = (
                f"{message.channel} thread {message.thread_ts}"
                if message.thread_ts
                else message.channel
            )
            print(f"[{where}] {message.text}", flush=True)
        seen = len(server.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Slack-compatible API for demos.")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", default="xoxb-demo-token")
    parser.add_argument("--channel", action="append", default=None)
    ns = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(ns.port, ns.token, ns.channel or ["alerts"]))


if __name__ == "__main__":
    main()
