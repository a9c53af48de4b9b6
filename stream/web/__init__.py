"""Pages the worker's web server serves: health, readiness, metrics, the Slack slash command.

Each page module has an ``install(app, runtime)`` function; ``install_all`` calls them in turn,
so a new page is one module and one line here.
"""

from __future__ import annotations

from typing import Any

from stream.runtime import Runtime

__all__ = ["install_all"]


def install_all(app: Any, runtime: Runtime) -> None:
    from stream.web import console, health, slack_commands

    for module in (health, slack_commands, console):
        module.install(app, runtime)
