"""``newsalert dlq``: see which alerts a destination refused, and send them again once fixed.

``list`` reads ``<alerts>.dlq`` without a consumer group, so it moves no offsets; ``redrive``
hands the letters back to the workers (see :mod:`stream.dlq` for why it goes through them).
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from stream.cli import app
from stream.dlq import PendingLetter, fold, read_dlq, redrive
from stream.errors import BrokerError
from stream.settings import Settings

__all__ = ["dlq_app"]

dlq_app = typer.Typer(
    name="dlq", help="List and redrive dead-lettered alerts.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")

_BOOTSTRAP_HELP = "Kafka bootstrap (default: NEWSALERT_KAFKA_BOOTSTRAP)."


def _bootstrap(option: str | None, settings: Settings) -> str:
    target = option or settings.kafka_bootstrap
    if not target:
        raise typer.BadParameter("set --bootstrap or NEWSALERT_KAFKA_BOOTSTRAP")
    return target


def _as_json(pending: PendingLetter) -> str:
    letter = pending.letter
    return json.dumps(
        {
            "alert_id": letter.alert.id,
            "destination": letter.destination,
            "reason": letter.reason,
            "attempts": letter.attempts,
            "last_error": letter.last_error,
            "failed_at": letter.failed_at.isoformat(),
            "letters": pending.letters,
            "partition": pending.partition,
            "offset": pending.offset,
            "alert": letter.alert.model_dump(mode="json"),
        },
        sort_keys=True,
    )


@dlq_app.command("list")
def list_letters(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    bootstrap: str | None = typer.Option(None, help=_BOOTSTRAP_HELP),
) -> None:
    """Dead letters not yet redriven, oldest first (one row per alert and destination)."""
    settings = Settings()
    topic = settings.alerts_dlq_topic
    try:
        view = fold(read_dlq(_bootstrap(bootstrap, settings), topic))
    except BrokerError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    err = Console(stderr=True)
    for partition, offset in view.unreadable:
        err.print(f"{topic}/{partition}/{offset}: not a dead letter, skipped")
    if as_json:
        for pending in view.pending:
            typer.echo(_as_json(pending))
        return
    if not view.pending:
        typer.echo(f"{topic}: no dead letters waiting ({view.redriven} redriven)")
        return
    table = Table(title=f"{topic}: {len(view.pending)} waiting")
    table.add_column("alert", no_wrap=True)  # ids are copied into `dlq redrive --id`
    table.add_column("destination", overflow="fold")
    for column in ("reason", "attempts", "failed at", "last error"):
        table.add_column(column)
    for pending in view.pending:
        letter = pending.letter
        table.add_row(
            letter.alert.id,
            letter.destination,
            letter.reason + (f" (x{pending.letters})" if pending.letters > 1 else ""),
            str(letter.attempts),
            letter.failed_at.strftime("%Y-%m-%d %H:%M:%S"),
            letter.last_error[:120],
        )
    Console().print(table)


@dlq_app.command("redrive")
def redrive_letters(
    ids: list[str] = typer.Option([], "--id", help="Alert id to redrive (repeatable)."),
    redrive_all: bool = typer.Option(False, "--all", help="Redrive every waiting letter."),
    destination: str | None = typer.Option(
        None, help="Only letters of this destination (with --id or --all)."
    ),
    bootstrap: str | None = typer.Option(None, help=_BOOTSTRAP_HELP),
) -> None:
    """Send dead letters again; running workers deliver them where they are still missing."""
    if not ids and not redrive_all:
        raise typer.BadParameter("name letters with --id ALERT_ID, or pass --all")
    if ids and redrive_all:
        raise typer.BadParameter("--id and --all exclude each other")
    settings = Settings()
    wanted = set(ids)

    def select(pending: PendingLetter) -> bool:
        if destination is not None and pending.destination != destination:
            return False
        return redrive_all or pending.alert_id in wanted

    try:
        sent = redrive(
            _bootstrap(bootstrap, settings),
            settings.alerts_topic,
            settings.alerts_dlq_topic,
            select,
        )
    except BrokerError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    for pending in sent:
        typer.echo(f"redrive {pending.alert_id} -> {pending.destination}")
    missing = wanted - {p.alert_id for p in sent}
    for alert_id in sorted(missing):
        typer.echo(f"{alert_id}: no dead letter waiting", err=True)
    typer.echo(f"queued {len(sent)} redrive(s) on {settings.alerts_topic}")
    if missing:
        raise typer.Exit(1)
