"""The local webhook receiver ``newsalert run --demo`` starts, so a first run shows the JSON a
real receiver would get without any set-up. It listens on loopback only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rich.console import Console
from rich.syntax import Syntax

__all__ = ["DemoReceiver"]


class DemoReceiver:
    """A tiny threaded HTTP server printing every JSON body POSTed to it."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.received.append(payload)
                receiver.console.print(
                    f"[bold]webhook received[/] (webhook-id {self.headers.get('webhook-id')}):"
                )
                receiver.console.print(Syntax(json.dumps(payload, indent=2), "json"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/alerts"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
