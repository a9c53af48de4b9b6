"""``newsalert backtest``: what a rule change would change, on articles already seen.

Exit status 0 means both rule sets raise exactly the same alerts on the input; 3 means they
differ (so CI can hold a rule change for review); 1 is a usage or input error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stream.cli import app
from stream.cli.replay import (
    BOOTSTRAP,
    FROM_BEGINNING,
    OFFSETS,
    SINCE,
    UNTIL,
    bootstrap_or_exit,
    print_plans,
    range_or_exit,
)
from stream.cli.rules import load_or_exit, wide_console
from stream.errors import ConfigError
from stream.replay import (
    AlertBrief,
    BacktestReport,
    ReplayError,
    SourceRecord,
    TopicReader,
    backtest,
    file_records,
)

__all__ = ["DIFFERS", "backtest_command", "render_report"]

DIFFERS = 3


def _brief(alert: AlertBrief) -> str:
    return (
        f"{alert.article_id} [{alert.severity}, {alert.entity or '-'}, {alert.kind}] "
        f"{alert.title}"
    )


def render_report(report: BacktestReport, out: Console) -> None:
    """The report for people: a per-rule table, then examples of each difference."""
    out.print(
        f"baseline {report.baseline_version}: {report.baseline_alerts} alerts; candidate "
        f"{report.candidate_version}: {report.candidate_alerts} alerts; "
        f"{report.articles} articles, {report.invalid} invalid",
        highlight=False, markup=False,
    )
    for line in report.invalid_shown:
        out.print(f"  invalid {line}", highlight=False, markup=False)
    if report.rules_added:
        out.print(f"rules only in candidate: {', '.join(report.rules_added)}", markup=False)
    if report.rules_removed:
        out.print(f"rules only in baseline: {', '.join(report.rules_removed)}", markup=False)
    if report.empty:
        out.print("no difference", style="bold green")
        return
    table = Table(title="difference per rule", title_justify="left")
    for column in ("rule", "baseline", "candidate", "added", "removed", "changed"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for diff in report.rules:
        if diff.differs:
            table.add_row(
                diff.rule_id, str(diff.baseline), str(diff.candidate),
                f"+{diff.added}", f"-{diff.removed}", f"~{diff.changed}",
            )
    out.print(table)
    for diff in report.rules:
        for added in diff.examples_added:
            out.print(f"+ {diff.rule_id}: {_brief(added)}", highlight=False, markup=False)
        for removed in diff.examples_removed:
            out.print(f"- {diff.rule_id}: {_brief(removed)}", highlight=False, markup=False)
        for change in diff.examples_changed:
            what = ", ".join(
                f"{name} {getattr(change.baseline, name)!r} -> {getattr(change.candidate, name)!r}"
                for name in change.fields
            )
            out.print(
                f"~ {diff.rule_id}: {change.baseline.article_id}: {what}",
                highlight=False, markup=False,
            )
    out.print(
        f"{report.added} added, {report.removed} removed, {report.changed} changed",
        style="bold yellow",
    )


@app.command("backtest")
def backtest_command(
    baseline: list[Path] = typer.Option(..., "--baseline", help="Current rules (files/dirs)."),
    candidate: list[Path] = typer.Option(..., "--candidate", help="Proposed rules."),
    input_path: Path | None = typer.Option(
        None, "--input", help="Articles as JSON lines (instead of a topic)."
    ),
    topic: str | None = typer.Option(None, "--topic", help="Read articles from this topic."),
    from_beginning: bool = FROM_BEGINNING,
    since: str | None = SINCE,
    offsets: str | None = OFFSETS,
    until: str | None = UNTIL,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    examples: int = typer.Option(3, "--examples", min=0, help="Examples per rule and kind."),
    bootstrap: str | None = BOOTSTRAP,
) -> None:
    """Compare two rule sets on the same articles; exit 3 if their alerts differ."""
    err = Console(stderr=True)
    if (input_path is None) == (topic is None):
        raise typer.BadParameter("give exactly one of --input FILE or --topic NAME")
    old = load_or_exit(baseline, err)
    new = load_or_exit(candidate, err)
    reader: TopicReader | None = None
    records: Iterable[SourceRecord]
    if topic is not None:
        span = range_or_exit(from_beginning, since, offsets, until)
        reader = TopicReader(bootstrap_or_exit(bootstrap), topic, span)
        records = reader
    else:
        assert input_path is not None
        if not input_path.is_file():
            err.print(f"{input_path}: no such file", highlight=False, markup=False)
            raise typer.Exit(1)
        records = file_records(input_path)
    try:
        report = backtest(records, old, new, examples=examples)
    except (ReplayError, ConfigError) as exc:
        err.print(f"backtest failed: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    if reader is not None:
        print_plans(err, reader.topic, reader.span, reader.plans)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        render_report(report, wide_console())
    if not report.empty:
        raise typer.Exit(DIFFERS)

