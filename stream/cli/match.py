"""``newsalert match``: run rules over a JSON-lines file of articles, offline, no Kafka.

Each alert is printed as the same JSON a webhook receives, one per line, so the output can be
diffed, grepped or piped. Bad input lines are reported on stderr with their line number and
skipped: one broken article must not hide the alerts of the others.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import typer
from pydantic import ValidationError
from rich.console import Console

from stream.cli import app
from stream.cli.rules import load_or_exit
from stream.models import Alert, Article, Match

__all__ = ["explain_match", "match"]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    stream: TextIO
    if str(path) == "-":
        yield from enumerate(sys.stdin, start=1)
        return
    with path.open(encoding="utf-8") as stream:
        yield from enumerate(stream, start=1)


def explain_match(match: Match) -> str:
    """A readable account of why ``match`` fired: rule, entity, and each piece of evidence."""
    lines = [
        f"{match.rule_id} (version {match.rule_version}, {match.severity}): {match.title}",
        f"  entity: {match.entity or '-'}",
    ]
    for evidence in match.evidence:
        lines.append(
            f"  {evidence.field}[{evidence.start}:{evidence.end}] {evidence.term!r} matched "
            f"{evidence.text!r}: {evidence.snippet}"
        )
    return "\n".join(lines)


@app.command()
def match(
    rules: list[Path] = typer.Option(..., "--rules", help="Rule files or directories."),
    input_path: Path = typer.Option(
        ..., "--input", help="Articles as JSON lines ('-' reads stdin)."
    ),
    explain: bool = typer.Option(
        False, "--explain", help="Also print each alert's evidence readably (on stderr)."
    ),
) -> None:
    """Print one alert JSON per line for every rule that fires on the input articles."""
    err = Console(stderr=True)
    ruleset = load_or_exit(rules, err)
    if str(input_path) != "-" and not input_path.is_file():
        typer.echo(f"{input_path}: no such file", err=True)
        raise typer.Exit(1)
    bad = 0
    for number, line in _lines(input_path):
        if not line.strip():
            continue
        try:
            article = Article.model_validate_json(line)
        except ValidationError as exc:
            bad += 1
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            typer.echo(
                f"{input_path}:{number}: invalid article ({where}: {first['msg']}); skipped",
                err=True,
            )
            continue
        for found in ruleset.evaluate(article):
            alert = Alert.from_match(found, article)
            typer.echo(alert.model_dump_json())
            if explain:
                typer.echo(explain_match(found), err=True)
    if bad:
        typer.echo(f"{bad} invalid line{'s' if bad != 1 else ''} skipped", err=True)
