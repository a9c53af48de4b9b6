"""``newsalert rules validate|test|schema``: the analyst's loop for writing rules.

``validate`` prints every problem as ``file:line:col: message`` (the format editors and CI
annotate), ``test`` runs every inline example and shows the evidence behind each verdict, and
``schema`` keeps ``rules/schema.json`` in step with the models so editors can complete keys.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stream.cli import app
from stream.engine import ExampleResult, RuleSet, load_rules
from stream.engine.schema import json_schema
from stream.errors import RuleError

__all__ = ["load_or_exit", "rules_app", "schema", "test", "validate", "wide_console"]

rules_app = typer.Typer(help="Validate, test and describe rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

DEFAULT_SCHEMA = Path("rules/schema.json")
_PATHS = typer.Argument(None, help="Rule files or directories (default: rules).")


def wide_console() -> Console:
    """A console that does not squeeze tables to 80 columns when output is piped (CI logs)."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def load_or_exit(paths: list[Path] | None, err: Console) -> RuleSet:
    """Load rules, or print every problem as file:line:col and exit with status 1."""
    try:
        return load_rules(paths or [Path("rules")])
    except RuleError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        count = len(exc.problems)
        err.print(f"{count} problem{'s' if count != 1 else ''}", style="bold red")
        raise typer.Exit(1) from None


@rules_app.command()
def validate(
    paths: list[Path] | None = _PATHS,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List rules and data dates."),
) -> None:
    """Check rule files; print file:line:col: message for every problem (exit 1 if any)."""
    out, err = Console(), Console(stderr=True)
    ruleset = load_or_exit(paths, err)
    out.print(
        f"ok: {len(ruleset.rules)} rules, {len(ruleset.examples)} examples in "
        f"{len(ruleset.files)} files (rules version {ruleset.version})",
        highlight=False,
    )
    if not verbose:
        return
    for file in ruleset.files:
        as_of = ruleset.as_of.get(file)
        out.print(f"{file}" + (f" (data as of {as_of.isoformat()})" if as_of else ""),
                  highlight=False, markup=False)
    for rule in ruleset.rules:
        state = "" if rule.enabled else " [disabled]"
        out.print(f"  {rule.id} {rule.version} {rule.severity} {rule.file}:{rule.line}{state}",
                  highlight=False, markup=False)


def _evidence_text(result: ExampleResult) -> str:
    if result.match is None:
        return ""
    parts = []
    for evidence in result.match.evidence[:6]:
        shown = evidence.text if evidence.text.lower() == evidence.term.lower() else (
            f"{evidence.text} ({evidence.term})"
        )
        parts.append(f"{evidence.field}: {shown}")
    return "; ".join(parts)


@rules_app.command()
def test(
    paths: list[Path] | None = _PATHS,
    failures_only: bool = typer.Option(False, "--failures-only", help="Show failing rows only."),
    rule: list[str] | None = typer.Option(None, "--rule", help="Only this rule id (repeatable)."),
) -> None:
    """Run every rule's inline examples; print pass/fail with evidence (exit 1 on failure)."""
    out, err = wide_console(), Console(stderr=True)
    ruleset = load_or_exit(paths, err)
    results = ruleset.run_examples(rule or None)
    table = Table(title=f"rule examples (rules version {ruleset.version})", show_lines=False)
    for column in ("result", "rule", "example", "outcome", "evidence"):
        table.add_column(column, overflow="fold")
    for result in results:
        if failures_only and result.passed:
            continue
        example = result.example
        table.add_row(
            "[green]pass[/]" if result.passed else "[bold red]FAIL[/]",
            example.rule_id,
            f"{example.file}:{example.line}",
            result.reason,
            _evidence_text(result),
        )
    out.print(table)
    failed = sum(1 for r in results if not r.passed)
    summary = f"{len(results) - failed} passed, {failed} failed"
    out.print(summary, style="bold red" if failed else "bold green")
    if failed or not results:
        if not results:
            err.print("no examples found: give rules inline `examples`")
        raise typer.Exit(1)


@rules_app.command()
def schema(
    check: bool = typer.Option(False, "--check", help="Exit 1 if the file is out of date."),
    output: Path = typer.Option(DEFAULT_SCHEMA, "--output", "-o", help="Schema file."),
) -> None:
    """Write (or check) the JSON Schema of rule files generated from the models."""
    text = json_schema()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            typer.echo(f"{output} is out of date; run `newsalert rules schema`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")
