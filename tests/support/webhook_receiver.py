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
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

if not __package__:  # run as a script (the demo): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.loopback import LoopbackServer

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True)
class Received:
    """One verified delivery."""

    webhook_id: str
    timestamp: str
    payload: dict[str, Any]
    headers: dict[str, str]


class WebhookReceiver(LoopbackServer):
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
        super().__init__(port)
        self._on_receive = on_receive
        self.attempts = 0
        self.rejected: list[str] = []
        self.received: list[Received] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/hook", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        # Wake waiters twice: when the attempt is counted (a stalled request may never end)
        # and once its effects are recorded (a waiter woken early would sleep through them).
        self.attempts += 1
        self.changed()
        try:
            return await self._answer(request)
        finally:
            self.changed()

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
