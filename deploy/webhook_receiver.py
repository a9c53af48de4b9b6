"""A sample webhook receiver for docker-compose: what a real consumer of newsalert alerts does.

Standard library only, so it runs in a plain ``python`` image. It shows the two things every
receiver should do: check the Standard Webhooks signature when a secret is shared
(``WEBHOOK_SECRET=whsec_...``), and drop a delivery it already has, keyed by ``webhook-id``
(the alert id), because newsalert retries until it gets a 2xx. Each new alert is printed as
one JSON line on stdout.

    python deploy/webhook_receiver.py            # listens on 0.0.0.0:8080, any path
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

__all__ = ["Receiver", "signature_ok"]

TOLERANCE_S = 300  # reject replays of a signed request older (or newer) than five minutes
_SEEN_MAX = 10_000


def signature_ok(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """Check a Standard Webhooks ``v1`` HMAC-SHA256 signature over ``id.timestamp.body``."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = headers.get("webhook-signature", "").split()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (item.partition(",") for item in offered)
    )


class Receiver:
    """The HTTP server and what it has seen; ``port=0`` picks a free port (tests)."""

    def __init__(
        self,
        host: str = "0.0.0.0",  # a container's service must accept its own network
        port: int = 8080,
        secret: str | None = None,
        out: IO[str] | None = None,
    ) -> None:
        self.secret = secret
        self.out = out or sys.stdout
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(receiver.accept(headers, body, time.time()))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # one line per alert on stdout is the whole output

        return Handler

    def accept(self, headers: dict[str, str], body: bytes, now: float) -> int:
        """Decide the HTTP status for one delivery, printing it when it is new."""
        if self.secret and not signature_ok(self.secret, headers, body, now):
            return 401  # newsalert treats a 4xx as final: a wrong secret is not retried
        try:
            alert = json.loads(body)
        except ValueError:
            return 400
        key = headers.get("webhook-id") or str(alert.get("id", ""))
        with self._lock:
            if key in self.seen:
                self.duplicates += 1
                return 204  # already have it: acknowledge so the sender stops retrying
            self.seen[key] = None
            if len(self.seen) > _SEEN_MAX:
                self.seen.popitem(last=False)
        self.out.write(json.dumps(alert, sort_keys=True) + "\n")
        self.out.flush()
        return 204

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    receiver = Receiver(
        port=int(os.environ.get("PORT", "8080")), secret=os.environ.get("WEBHOOK_SECRET") or None
    )
    # As PID 1 in a container SIGTERM would be ignored; make it stop the server like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"webhook receiver listening on :{receiver.port}", file=sys.stderr, flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server.server_close()


if __name__ == "__main__":
    main()
