"""The console line: readable, and safe against markup in article text."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console

from stream.delivery.console import ConsoleSink, build_payload
from stream.models import Alert

AlertFactory = Callable[..., Alert]


async def test_one_plain_line_per_alert(make_alert: AlertFactory) -> None:
    out = io.StringIO()
    sink = ConsoleSink(console=Console(file=out, width=300, color_system=None))
    receipt = await sink.send(make_alert(story_sources=3), None)
    line = out.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("12:00:00 HIGH     Armenia alliances.csto.summit_skip")
    assert "(example-wire, 3 sources) https://news.example.org/armenia-csto" in line
    assert receipt.destination == "console"


def test_markup_in_titles_is_shown_literally(make_alert: AlertFactory) -> None:
    out = io.StringIO()
    Console(file=out, width=300, color_system=None).print(
        build_payload(make_alert(title="[bold]not markup[/bold]", kind="escalation"))
    )
    assert "[bold]not markup[/bold]" in out.getvalue()
    assert "(escalation)" in out.getvalue()
