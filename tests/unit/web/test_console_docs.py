"""docs/console.md stays true: its rule example fires as it says, its screenshots exist, and
the contrast it promises holds for the stylesheet's colours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from console_helpers import REPO, make_runtime

from stream.web.console.playground import PlaygroundInput, run_playground

DOC = (REPO / "docs" / "console.md").read_text(encoding="utf-8")
CSS = (REPO / "stream" / "web" / "console" / "static" / "console.css").read_text()


def test_the_pasted_rule_example_fires_as_documented(tmp_path: Path) -> None:
    block = DOC.split("```yaml", 1)[1].split("```", 1)[0]
    title = re.search(r'title \*"(.+?)"\*', DOC, flags=re.S)
    entity = re.search(r"fires with the entity `(\w+)`", DOC)
    assert title and entity
    live = make_runtime(tmp_path).rules.ruleset
    result = run_playground(
        PlaygroundInput(title=" ".join(title.group(1).split()), rule_yaml=block), live)
    assert not result.problems, result.problems
    (outcome,) = result.outcomes
    assert outcome.fired and outcome.match is not None
    assert outcome.match.entity == entity.group(1)


def test_every_page_is_pictured_at_both_widths() -> None:
    linked = re.findall(r"\]\((img/[^)]+)\)", DOC)
    for path in linked:
        assert (REPO / "docs" / path).is_file(), path
    for page in ("alerts", "rules", "subscriptions", "playground"):
        for width in ("1280", "phone"):
            assert f"img/console-{page}-{width}.png" in linked


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


VARS = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))


@pytest.mark.parametrize(
    ("text", "background", "minimum"),
    [
        ("fg", "bg", 4.5), ("muted", "bg", 4.5), ("muted", "panel", 4.5),
        ("accent", "bg", 4.5), ("accent", "panel", 4.5),
        ("high", "bg", 4.5), ("low", "bg", 4.5), ("medium", "bg", 4.5),
        ("#ffffff", "info", 4.5), ("#ffffff", "low", 4.5), ("#ffffff", "medium", 4.5),
        ("#ffffff", "high", 4.5), ("#ffffff", "critical", 4.5), ("#ffffff", "accent", 4.5),
        ("#000000", "mark", 4.5), ("#ffffff", "#14213d", 4.5),
        ("focus", "bg", 3.0),  # a focus outline is not text: 3:1 is the bar
    ],
)
def test_colours_meet_wcag_aa(text: str, background: str, minimum: float) -> None:
    fg = text if text.startswith("#") else VARS[text]
    bg = background if background.startswith("#") else VARS[background]
    assert _contrast(fg, bg) >= minimum, f"{text} on {background}: {_contrast(fg, bg):.2f}"
