"""``POST /slack/commands``: the ``/newsalert`` slash command, verified by Slack's signature.

Answers 404 when no signing secret is configured: an unverifiable endpoint must not exist.
"""

from __future__ import annotations

import time
from typing import Any

from faust.web import View

from stream.delivery import SlashHandler
from stream.runtime import Runtime

__all__ = ["install"]


def install(app: Any, runtime: Runtime) -> None:
    secret = runtime.settings.slack_signing_secret
    store = runtime.slash_store
    handler = SlashHandler(secret, store) if secret and store is not None else None

    @app.page("/slack/commands")
    class SlackCommands(View):
        async def post(self, request: Any) -> Any:
            if handler is None:
                return self.json({"error": "slash commands are not configured"}, status=404)
            body = await request.read()
            response = handler.handle(dict(request.headers), body, time.time())
            return self.json(response.body, status=response.status)
