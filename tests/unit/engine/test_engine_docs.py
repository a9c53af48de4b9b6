"""Every complete rule file shown in docs/rules.md loads, and its examples pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stream.engine import load_rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_documented_rule_file_works(index: int, tmp_path: Path) -> None:
    path = tmp_path / f"doc-{index}.yml"
    path.write_text(BLOCKS[index], encoding="utf-8")
    ruleset = load_rules([path])
    results = ruleset.run_examples()
    assert results, "every documented rule file shows examples"
    failed = [f"line {r.example.line}: {r.reason}" for r in results if not r.passed]
    assert not failed, failed


def test_documented_validate_output_is_what_the_command_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from stream.cli import _register, app

    _register()
    [block] = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    command, *expected = block.strip().splitlines()
    args = command.removeprefix("$ newsalert ").split()
    monkeypatch.chdir(DOC.parents[1])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == expected
