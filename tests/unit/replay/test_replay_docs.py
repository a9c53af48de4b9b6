"""docs/replay.md stays true: its walkthrough, its suite and its command lines run as shown."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.main import get_command
from typer.testing import CliRunner

from stream.cli import _register, app
from stream.engine import load_rules
from stream.replay import check_suite, load_suite

REPO = Path(__file__).resolve().parents[3]
DOC = (REPO / "docs" / "replay.md").read_text()

_register()


def blocks(language: str) -> list[str]:
    """Fenced blocks of ``language``, dedented (some sit inside a numbered list)."""
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```", DOC, flags=re.S | re.M)
    return [
        "\n".join(line[len(indent):] for line in body.splitlines())
        for indent, body in found
    ]


def commands() -> list[list[str]]:
    lines = [line for block in blocks("console") for line in block.splitlines()]
    return [shlex.split(line[2:]) for line in lines if line.startswith("$ newsalert ")]


def test_the_walkthrough_gives_the_output_it_shows(tmp_path: Path) -> None:
    (diff,) = blocks("diff")
    before = next(line[1:] for line in diff.splitlines() if line.startswith("-    "))
    after = next(line[1:] for line in diff.splitlines() if line.startswith("+    "))
    candidate = tmp_path / "candidate"
    shutil.copytree(REPO / "rules", candidate)
    target = candidate / "alliances" / "csto.yml"
    text = target.read_text()
    assert text.count(before) == 1, "the documented edit no longer applies"
    target.write_text(text.replace(before, after))

    backtest = next(c for c in commands() if c[1] == "backtest" and "--input" in c)
    args = [str(candidate) if a == "/tmp/candidate" else a for a in backtest[1:]]
    args = [str(REPO / a) if (REPO / a).exists() else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    shown = next(b for b in blocks("text") if "removed" in b)
    for line in shown.splitlines():
        if line.strip() != "...":
            assert line in result.output, f"{line!r} not in:\n{result.output}"


def test_the_documented_suite_is_the_shipped_one_and_passes(tmp_path: Path) -> None:
    (block,) = [b for b in blocks("yaml") if b.startswith("# tests/regress/samples.yml")]
    yaml = YAML(typ="safe")
    shipped = REPO / "tests" / "regress" / "samples.yml"
    assert yaml.load(block) == yaml.load(shipped.read_text())
    here = tmp_path / "tests" / "regress"
    here.mkdir(parents=True)
    (tmp_path / "rules").symlink_to(REPO / "rules")
    (tmp_path / "examples").symlink_to(REPO / "examples")
    (here / "samples.yml").write_text(block)
    suite = load_suite(here / "samples.yml")
    assert check_suite(suite, load_rules(list(suite.rules))).ok


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv[1:3]))
def test_every_documented_command_line_parses(argv: list[str]) -> None:
    command: Any = get_command(app)
    names = argv[1:]
    while hasattr(command, "commands") and names and names[0] in command.commands:
        command = command.commands[names.pop(0)]
    assert not hasattr(command, "commands"), f"no such command: {argv}"
    with command.make_context(argv[1], list(names), resilient_parsing=False) as ctx:
        assert ctx.params


def test_every_documented_replay_option_exists() -> None:
    table = DOC.split("## `newsalert replay`", 1)[1].split("##", 1)[0]
    documented = set(re.findall(r"^\| `(--[a-z-]+)", table, flags=re.M))
    group: Any = get_command(app)
    actual = {o for p in group.commands["replay"].params for o in getattr(p, "opts", [])}
    assert documented and documented <= actual
    assert {o for o in actual if o.startswith("--") and o != "--topic"} <= documented
