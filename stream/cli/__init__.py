"""The ``newsalert`` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="newsalert",
    help="Event-driven news alerting: Kafka articles, YAML rules, Slack and webhook alerts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # One import per command module; each module adds its commands to ``app``.
    from stream.cli import (  # noqa: F401
        backtest,
        broker_cmd,
        dlq,
        match,
        produce,
        regress,
        replay,
        rules,
        run,
        subscriptions,
    )


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
