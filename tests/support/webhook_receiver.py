"""A local webhook receiver that verifies Standard Webhooks signatures.

Verification uses the ``standardwebhooks`` package itself, not our signing code, so a passing
test means any Standard Webhooks receiver accepts what we send. ``fail_first`` answers the first
N requests with an error to exercise retries.

Run it alone for a demo:
``python tests/support/webhook_receiver.py --port 8098 --secret whsec_...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True)
class Received:
    """One verified delivery."""

    webhook_id: str
    timestamp: str
    payload: dict[str, Any]
    headers: dict[str, str]


class WebhookReceiver:
    """Serve on 127.0.0.1; ``url`` is the endpoint to configure as a destination."""

    def __init__(
        self,
        secret: str | None,
        *,
        fail_first: int = 0,
        fail_status: int = 500,
        retry_after: str | None = None,
        port: int = 0,
        on_receive: Callable[[Received], None] | None = None,
    ) -> None:
        self._webhook = Webhook(secret) if secret else None
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        # While set to an unset Event, requests hang until it is set (a stalled endpoint).
        self.hold: asyncio.Event | None = None
        self._port = port
        self._on_receive = on_receive
        self.attempts = 0
        self.rejected: list[str] = []
        self.received: list[Received] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        # Wake waiters twice: when the attempt is counted (a stalled request may never end)
        # and once its effects are recorded (a waiter woken early would sleep through them).
        self.attempts += 1
        self._changed.set()
        try:
            return await self._answer(request)
        finally:
            self._changed.set()

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        if self.hold is not None:
            await self.hold.wait()
        if self.attempts <= self.fail_first:
            headers_out = {"Retry-After": self.retry_after} if self.retry_after else None
            return web.Response(status=self.fail_status, text="not now", headers=headers_out)
        if self._webhook is not None:
            try:
                payload = self._webhook.verify(body, headers)
            except WebhookVerificationError as exc:
                self.rejected.append(str(exc))
                return web.Response(status=401, text=str(exc))
        else:
            payload = json.loads(body)
        received = Received(
            webhook_id=headers.get("webhook-id", ""),
            timestamp=headers.get("webhook-timestamp", ""),
            payload=payload,
            headers={k.lower(): v for k, v in headers.items()},
        )
        self.received.append(received)
        if self._on_receive is not None:
            self._on_receive(received)
        return web.Response(status=204)


async def _serve(port: int, secret: str | None) -> None:
    def show(r: Received) -> None:
        print(json.dumps(r.payload, indent=2), flush=True)

    receiver = WebhookReceiver(secret, port=port, on_receive=show)
    await receiver.start()
    print(f"webhook receiver at {receiver.url}", flush=True)
    await receiver.wait_for(lambda: False, timeout=math.inf)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Standard Webhooks receiver for demos.")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--secret", default=None)
    ns = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(ns.port, ns.secret))


if __name__ == "__main__":
    main()
