"""``newsalert subscriptions``: check a subscriptions file and see where an alert would go.

Like ``amtool config routes test``: routing can be tried on a saved alert before a change is
deployed, instead of finding out from a silent channel.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError

from stream.cli import app
from stream.delivery.router import build_router
from stream.delivery.subscriptions import load_subscriptions
from stream.errors import ConfigError
from stream.models import Alert
from stream.settings import Settings

__all__ = ["subscriptions_app"]

subscriptions_app = typer.Typer(
    name="subscriptions", help="Check subscriptions and test alert routing.", no_args_is_help=True
)
app.add_typer(subscriptions_app, name="subscriptions")

_FILE_HELP = "Subscriptions YAML (default: NEWSALERT_SUBSCRIPTIONS_FILE)."


def _read_alerts(path: Path) -> list[Alert]:
    """One alert JSON document, or JSON lines as ``newsalert match`` prints them."""
    text = path.read_text(encoding="utf-8")
    try:
        return [Alert.model_validate_json(text)]
    except ValidationError:
        pass
    alerts = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            alerts.append(Alert.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"{path}:{number}: not an alert: {exc}") from exc
    if not alerts:
        raise ConfigError(f"{path}: no alert found")
    return alerts


def _fail(error: ConfigError) -> typer.Exit:
    typer.echo(str(error), err=True)
    return typer.Exit(code=2)


@subscriptions_app.command("test")
def test_routes(
    alert: Path = typer.Option(..., "--alert", exists=True, dir_okay=False, help="Alert JSON."),
    file: Path | None = typer.Option(None, "--file", help=_FILE_HELP),
    expect: str | None = typer.Option(
        None, help="Comma-separated destinations; exit 1 unless exactly these are reached."
    ),
) -> None:
    """Show which destinations each alert reaches, and through which route."""
    settings = Settings()
    try:
        router = build_router(settings, file or settings.subscriptions_file)
        alerts = _read_alerts(alert)
    except ConfigError as exc:
        raise _fail(exc) from exc
    mismatch = False
    for item in alerts:
        hits = router.explain(item)
        typer.echo(f"{item.id} {item.rule_id} {item.severity} {item.entity or '-'}")
        for hit in hits:
            typer.echo(f"  -> {hit.destination}  (via {hit.via})")
        if not hits:
            typer.echo("  -> no destination")
        if expect is not None:
            wanted = [d.strip() for d in expect.split(",") if d.strip()]
            mismatch |= sorted(router.route(item)) != sorted(wanted)
    if mismatch:
        typer.echo(f"expected exactly: {expect}", err=True)
        raise typer.Exit(code=1)


@subscriptions_app.command("check")
def check(file: Path | None = typer.Option(None, "--file", help=_FILE_HELP)) -> None:
    """Validate a subscriptions file; problems are printed as file:line:column: message."""
    path = file or Settings().subscriptions_file
    if path is None:
        typer.echo("no subscriptions file given (--file or NEWSALERT_SUBSCRIPTIONS_FILE)", err=True)
        raise typer.Exit(code=2)
    try:
        subs = load_subscriptions(path)
    except ConfigError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{path}: {len(subs.destinations)} destinations, {len(subs.routes)} routes, ok")
