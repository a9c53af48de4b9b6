"""``newsalert rules regress SUITE.yml``: check pinned alert counts per rule.

Lives beside ``rules validate`` and ``rules test`` because it answers the same question one
level up: not "does this rule match this sentence" but "does the pack still raise the alerts
it raised on this traffic". Exit 1 when any count drifts or the suite is invalid.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stream.cli.replay import BOOTSTRAP, bootstrap_or_exit, print_plans
from stream.cli.rules import load_or_exit, rules_app, wide_console
from stream.errors import ConfigError
from stream.replay import (
    ReplayError,
    SourceRecord,
    SuiteError,
    SuiteResult,
    TopicReader,
    check_suite,
    load_suite,
)

__all__ = ["regress", "render_result"]


def render_result(result: SuiteResult, name: str, out: Console) -> None:
    """One row per rule with an expectation or an alert; failures in red."""
    table = Table(title=name, title_justify="left")
    for column in ("rule", "expected", "actual", ""):
        table.add_column(column)
    for check in result.checks:
        expected = "any" if check.expected is None else str(check.expected)
        table.add_row(
            check.rule_id, expected, str(check.actual),
            "[green]ok[/]" if check.ok else "[bold red]FAIL[/]",
        )
    out.print(table)
    stats = result.stats
    out.print(
        f"{stats.articles} articles, {stats.invalid} invalid, {stats.alert_total} alerts",
        highlight=False,
    )
    for invalid in stats.invalid_shown:
        out.print(f"  invalid {invalid.where}: {invalid.reason}", highlight=False, markup=False)


@rules_app.command()
def regress(
    suites: list[Path] = typer.Argument(..., help="Regression suite files (YAML)."),
    bootstrap: str | None = BOOTSTRAP,
) -> None:
    """Replay each suite's input and compare alert counts per rule with the pinned ones."""
    out, err = wide_console(), Console(stderr=True)
    failed = 0
    for path in suites:
        try:
            suite = load_suite(path)
        except SuiteError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        ruleset = load_or_exit(list(suite.rules), err)
        records: Iterable[SourceRecord] | None = None
        reader: TopicReader | None = None
        if suite.topic is not None:
            reader = TopicReader(bootstrap_or_exit(bootstrap), suite.topic.name,
                                 suite.topic.span())
            records = reader
        try:
            result = check_suite(suite, ruleset, records)
        except (ReplayError, ConfigError) as exc:
            err.print(f"{path}: {exc}", highlight=False, markup=False)
            raise typer.Exit(1) from None
        if reader is not None:
            print_plans(err, reader.topic, reader.span, reader.plans)
        render_result(result, suite.name or str(path), out)
        failed += not result.ok
    if failed:
        err.print(f"{failed} suite{'s' if failed != 1 else ''} failed", style="bold red")
        raise typer.Exit(1)
