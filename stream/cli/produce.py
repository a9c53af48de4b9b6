"""``newsalert produce``: load a JSON-lines file of articles into a topic."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from stream.cli import app
from stream.settings import Settings

__all__ = ["produce"]


@app.command()
def produce(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON-lines articles."),
    topic: str | None = typer.Option(None, help="Target topic (default: the articles topic)."),
    bootstrap: str | None = typer.Option(None, help="Kafka bootstrap (default: settings)."),
    strict: bool = typer.Option(False, help="Send nothing if any line is invalid."),
    timestamps: str = typer.Option(
        "now", "--timestamps",
        help="Record time: 'now', or 'published' (each article's published_at, for replays).",
    ),
) -> None:
    """Validate and publish articles; bad lines are reported with their line numbers."""
    from stream.produce import produce_articles

    if timestamps not in ("now", "published"):
        raise typer.BadParameter("--timestamps is 'now' or 'published'")
    settings = Settings()
    target = bootstrap or settings.kafka_bootstrap
    if not target:
        raise typer.BadParameter("set --bootstrap or NEWSALERT_KAFKA_BOOTSTRAP")
    err = Console(stderr=True)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("producing", total=None)
        report = produce_articles(
            target,
            topic or settings.articles_topic,
            file,
            strict=strict,
            on_progress=lambda n: progress.advance(task, n),
            timestamps="published" if timestamps == "published" else "now",
        )
    for bad in report.skipped:
        err.print(f"{file}:{bad.line}: skipped: {bad.reason}")
    if strict and report.skipped:
        err.print(f"strict: nothing sent ({len(report.skipped)} invalid lines)")
        raise typer.Exit(1)
    typer.echo(
        f"sent {report.sent}, skipped {len(report.skipped)}, "
        f"{report.rate:.0f} articles/s"
    )
