"""Console destination: one readable line per alert, for the demo and for operators' terminals."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from stream.delivery.base import Receipt
from stream.models import Alert, Severity

__all__ = ["ConsoleSink", "build_payload"]

_STYLE: dict[Severity, str] = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def build_payload(alert: Alert) -> str:
    """Rich markup for one line: time, severity, subject, rule, headline, source and link."""
    when = alert.created_at.strftime("%H:%M:%S")
    severity = f"[{_STYLE[alert.severity]}]{alert.severity.upper():<8}[/]"
    subject = escape(alert.entity or "-")
    parts = [
        f"[dim]{when}[/]",
        severity,
        f"[bold]{subject}[/]",
        f"[magenta]{escape(alert.rule_id)}[/]",
        escape(alert.title),
    ]
    if alert.kind != "new":
        parts.insert(2, f"[italic]({alert.kind})[/]")
    tail = []
    if alert.article.source:
        tail.append(escape(alert.article.source))
    if alert.story_sources > 1:
        tail.append(f"{alert.story_sources} sources")
    if tail:
        parts.append(f"[dim]({', '.join(tail)})[/]")
    if alert.article.url:
        parts.append(f"[blue]{escape(alert.article.url)}[/]")
    return " ".join(parts)


class ConsoleSink:
    """Prints alerts; never fails in a way worth retrying."""

    def __init__(self, name: str = "console", console: Console | None = None) -> None:
        self._name = name
        self._console = console or Console(highlight=False)

    @property
    def name(self) -> str:
        return self._name

    @property
    def min_interval_s(self) -> float:
        return 0.0

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt:
        del thread
        self._console.print(build_payload(alert), highlight=False, soft_wrap=True)
        return Receipt(destination=self._name)

    async def aclose(self) -> None:
        """Nothing to release."""
