"""The analysts' console, served by the worker on the same port as health and metrics.

Four server-rendered pages (Alerts with live updates, Rules, Subscriptions, Playground) built
from the runtime the agents share. Templates and the small CSS/JS live in this package, so
there is no build step; see docs/console.md.
"""

from __future__ import annotations

from stream.web.console.pages import install

__all__ = ["install"]
