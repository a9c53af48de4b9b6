"""``newsalert replay``: the alerts a rule set would have raised on a topic range.

Reads with a group-less consumer (nothing committed), evaluates with fresh state (production
state untouched) and prints; only ``--deliver`` sends anything anywhere, and then every alert
says ``replayed: true``. The summary (stderr) says what was read per partition, what was not
an article and why, and how each partition's range was decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from stream.cli import app
from stream.cli.rules import load_or_exit, wide_console
from stream.errors import ConfigError
from stream.models import Alert
from stream.replay import (
    PartitionPlan,
    Replayer,
    ReplayError,
    ReplayStats,
    TopicRange,
    TopicReader,
    parse_offsets,
    parse_time,
)
from stream.settings import Settings

__all__ = [
    "Format",
    "alerts_table",
    "bootstrap_or_exit",
    "print_plans",
    "print_stats",
    "range_or_exit",
    "replay",
]


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


FROM_BEGINNING = typer.Option(
    False, "--from-beginning", help="Start at the first offset of every partition (default)."
)
SINCE = typer.Option(
    None, "--since", help="Start at this time on every partition: ISO 8601, or 7d/36h ago."
)
OFFSETS = typer.Option(
    None, "--offsets", help="Start offsets P:O,... (only the partitions listed are read)."
)
UNTIL = typer.Option(None, "--until", help="Stop before this time: ISO 8601, or 2h ago.")
BOOTSTRAP = typer.Option(None, "--bootstrap", help="Kafka bootstrap (default: settings).")


def range_or_exit(
    from_beginning: bool, since: str | None, offsets: str | None, until: str | None
) -> TopicRange:
    """The range the options describe, or a usage error naming the bad option."""
    try:
        return TopicRange(
            from_beginning=from_beginning,
            since=parse_time(since) if since else None,
            offsets=parse_offsets(offsets) if offsets else None,
            until=parse_time(until) if until else None,
        )
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    except ValidationError as exc:
        message = "; ".join(
            str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False)
        )
        raise typer.BadParameter(message) from None


def bootstrap_or_exit(bootstrap: str | None) -> str:
    """The Kafka to read: the option, else the setting; replay never starts a broker."""
    target = bootstrap or Settings().kafka_bootstrap
    if not target:
        raise typer.BadParameter("set --bootstrap or NEWSALERT_KAFKA_BOOTSTRAP")
    return target


def print_plans(err: Console, topic: str, span: TopicRange, plans: list[PartitionPlan]) -> None:
    """Per partition: the offsets read, records skipped by time, and broker differences."""
    err.print(f"{topic}: {span.describe()}", highlight=False, markup=False)
    for plan in plans:
        skipped = (
            f", {plan.skipped_before_since} skipped before --since"
            if plan.skipped_before_since else ""
        )
        err.print(
            f"  partition {plan.partition}: offsets [{plan.start}, {plan.stop}) of "
            f"[{plan.beginning}, {plan.end}), {plan.read} read{skipped}",
            highlight=False, markup=False,
        )
        for note in plan.notes:
            err.print(f"    note: {note}", highlight=False, markup=False)


def print_stats(err: Console, stats: ReplayStats) -> None:
    """Articles, invalid inputs with where and why, alerts per rule."""
    err.print(
        f"{stats.articles} articles, {stats.invalid} invalid, {stats.matches} matches, "
        f"{stats.alert_total} alerts"
        + (f" ({stats.repeats} repeated alert ids dropped)" if stats.repeats else ""),
        highlight=False, markup=False,
    )
    for invalid in stats.invalid_shown:
        err.print(f"  invalid {invalid.where}: {invalid.reason}", highlight=False, markup=False)
    if stats.invalid > len(stats.invalid_shown):
        err.print(f"  ... and {stats.invalid - len(stats.invalid_shown)} more invalid")
    for rule_id, count in sorted(stats.alerts.items()):
        err.print(f"  {rule_id}: {count}", highlight=False, markup=False)


def alerts_table(alerts: list[Alert]) -> Table:
    table = Table(title=f"{len(alerts)} alerts", title_justify="left")
    for column in ("time", "rule", "severity", "entity", "kind", "article", "title"):
        table.add_column(column, overflow="fold")
    for alert in alerts:
        table.add_row(
            alert.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            alert.rule_id,
            alert.severity,
            alert.entity or "-",
            alert.kind,
            alert.article.id,
            alert.title,
        )
    return table


async def _deliver(alerts: Iterator[Alert], settings: Settings, err: Console) -> tuple[int, int]:
    """Send each alert to the configured destinations; returns (delivered, dead) counts.

    The ledger is a fresh dict, so a replay never marks a production alert as delivered,
    and dead letters are reported here instead of being written to the alerts DLQ topic.
    """
    from stream.delivery import (
        DeadLetter,
        Dispatcher,
        RetryPolicy,
        build_router,
        build_sinks,
    )

    router = build_router(settings, settings.subscriptions_file)
    sinks = build_sinks(settings, router.subscriptions)
    dead: list[DeadLetter] = []

    async def on_dead(letter: DeadLetter) -> None:
        dead.append(letter)
        err.print(
            f"dead letter: {letter.alert.id} -> {letter.destination}: {letter.reason} "
            f"({letter.last_error})",
            highlight=False, markup=False,
        )

    dispatcher = Dispatcher(sinks, router, {}, on_dead, RetryPolicy.from_settings(settings))
    delivered = 0
    try:
        while True:
            # Reading blocks on the broker: keep it off the loop the sinks run on.
            alert = await asyncio.to_thread(next, alerts, None)
            if alert is None:
                break
            report = await dispatcher.dispatch(alert)
            delivered += len(report.by_status("delivered"))
    finally:
        await sinks.aclose()
    return delivered, len(dead)


@app.command()
def replay(
    rules: list[Path] = typer.Option(..., "--rules", help="Rule files or directories."),
    topic: str | None = typer.Option(None, help="Topic to read (default: the articles topic)."),
    from_beginning: bool = FROM_BEGINNING,
    since: str | None = SINCE,
    offsets: str | None = OFFSETS,
    until: str | None = UNTIL,
    output: Format = typer.Option(Format.table, "--format", help="table or jsonl (stdout)."),
    deliver: bool = typer.Option(
        False, "--deliver", help="Send the alerts to the configured destinations, as replayed."
    ),
    bootstrap: str | None = BOOTSTRAP,
) -> None:
    """Show the alerts RULES would have raised on a topic range; deliver nothing by default."""
    err = Console(stderr=True)
    span = range_or_exit(from_beginning, since, offsets, until)
    target = bootstrap_or_exit(bootstrap)
    ruleset = load_or_exit(rules, err)
    settings = Settings()
    name = topic or settings.articles_topic
    reader = TopicReader(target, name, span)
    replayer = Replayer(ruleset)
    alerts = (a.model_copy(update={"replayed": True}) for a in replayer.run(reader))
    shown: list[Alert] = []

    def emit() -> Iterator[Alert]:
        for alert in alerts:
            if output is Format.jsonl:
                typer.echo(alert.model_dump_json())
            else:
                shown.append(alert)
            yield alert

    try:
        if deliver:
            delivered, dead = asyncio.run(_deliver(emit(), settings, err))
        else:
            for _ in emit():
                pass
    except (ReplayError, ConfigError) as exc:
        err.print(f"replay failed: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    if output is Format.table:
        wide_console().print(alerts_table(shown))
    print_plans(err, name, span, reader.plans)
    print_stats(err, replayer.stats)
    if deliver:
        err.print(f"delivered {delivered}, dead-lettered {dead} (marked replayed)")
