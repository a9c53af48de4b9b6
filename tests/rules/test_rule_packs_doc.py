"""docs/rule-packs.md stays true: its commands work and its "add an organisation" block does.

The document tells a maintainer how to add an organisation and how to measure noise; both
recipes run here against the shipped rules, so an edit to the packs or the engine that breaks
them fails the build instead of misleading the next reader.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from stream.cli import _register, app
from stream.engine import load_rules

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "rule-packs.md"
CORPUS = REPO.parent / "shared" / "corpus" / "bbc-news-2225.jsonl"
GENERIC_KINDS = (
    "member-skips-summit",
    "member-walks-out",
    "member-threatens-exit",
    "member-exit-referendum",
    "member-withdraws",
    "member-suspended",
)


def _block_after(heading: str, language: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(heading)
    found = re.search(rf"```{language}\n(.*?)```", text[start:], re.DOTALL)
    assert found is not None, f"no {language} block after {heading!r}"
    return found.group(1)


def test_adding_an_organisation_as_documented_gives_six_working_rules(tmp_path: Path) -> None:
    block: dict[str, Any] = YAML(typ="safe").load(
        _block_after("### Adding an organisation", "yaml")
    )
    rules = tmp_path / "rules"
    for part in ("alliances", "lists", "organisations"):
        shutil.copytree(REPO / "rules" / part, rules / part)
    yaml = YAML(typ="safe")
    orgs_file = rules / "lists" / "organisations.yml"
    orgs = yaml.load(orgs_file.read_text(encoding="utf-8"))
    orgs["lists"].update(block["lists"])
    orgs["tables"]["organisations"].extend(block["tables"]["organisations"])
    with orgs_file.open("w", encoding="utf-8") as out:
        yaml.dump(orgs, out)

    ruleset = load_rules([rules])
    new_id = block["tables"]["organisations"][0]["id"]
    wanted = {f"{new_id}-{kind}" for kind in GENERIC_KINDS}
    assert wanted <= {rule.id for rule in ruleset.rules}
    results = ruleset.run_examples(wanted)
    assert len(results) >= 4 * len(wanted)
    failed = [f"{r.example.rule_id}#{r.example.index}: {r.reason}" for r in results if not r.passed]
    assert not failed, failed


def test_documented_validate_and_test_commands_pass() -> None:
    _register()
    runner = CliRunner()
    for command in (["rules", "validate", "rules/"], ["rules", "test", "rules/"]):
        result = runner.invoke(app, command, catch_exceptions=False)
        assert result.exit_code == 0, result.output


def test_documented_noise_measurement_matches_the_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not CORPUS.exists():
        pytest.skip(f"BBC corpus not found at {CORPUS}; it lives beside the repository")
    monkeypatch.chdir(REPO)
    _register()
    result = CliRunner().invoke(
        app, ["match", "--rules", "rules", "--input", str(CORPUS)], catch_exceptions=False
    )
    assert result.exit_code == 0
    alerts = [line for line in result.stdout.splitlines() if line.startswith("{")]
    claimed = re.search(r"\*\*Result: (\d+) alerts?\*\*", DOC.read_text(encoding="utf-8"))
    assert claimed is not None, "the document must state the measured alert count"
    assert len(alerts) == int(claimed.group(1))
