"""The rule commands end to end through the real CLI: exit codes and printed output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stream.cli import _register, app
from stream.engine.schema import json_schema
from stream.models import Alert

REPO = Path(__file__).resolve().parents[3]
CSTO = REPO / "rules" / "alliances" / "csto.yml"
INVALID = REPO / "tests" / "fixtures" / "rules_invalid"

_register()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_ok(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "validate", str(CSTO)])
    assert result.exit_code == 0, result.output
    assert "ok: 2 rules" in result.output


def test_validate_verbose_shows_the_data_date(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "validate", "--verbose", str(CSTO)])
    assert result.exit_code == 0
    assert "data as of 2025-06-01" in result.output
    assert "csto-member-skips-summit" in result.output


def test_validate_prints_file_line_col_and_exits_1(runner: CliRunner) -> None:
    bad = INVALID / "several_problems.yml"
    result = runner.invoke(app, ["rules", "validate", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(bad))]
    assert [line.split(":")[1] for line in lines] == ["5", "11", "11"]
    assert "3 problems" in result.output


def test_rules_test_passes_on_the_csto_pack(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "test", str(CSTO)])
    assert result.exit_code == 0, result.output
    assert "10 passed, 0 failed" in result.output
    assert "csto-member-skips-summit" in result.output


def test_rules_test_fails_and_shows_why(runner: CliRunner, tmp_path: Path) -> None:
    rule = {
        "rules": [
            {
                "id": "wrong",
                "name": "Wrong expectation",
                "when": {"any": ["summit"]},
                "examples": [
                    {"text": "The summit opened.", "expect": "none"},
                    {"text": "Quiet day.", "expect": "none"},
                ],
            }
        ]
    }
    path = tmp_path / "wrong.yml"
    path.write_text(json.dumps(rule), encoding="utf-8")
    result = runner.invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.output
    assert "expected no match" in result.output
    assert "summit" in result.output  # the evidence of the unexpected match


def test_shipped_schema_is_current(runner: CliRunner) -> None:
    shipped = REPO / "rules" / "schema.json"
    assert shipped.read_text(encoding="utf-8") == json_schema(), (
        "rules/schema.json is stale: run `newsalert rules schema`"
    )
    result = runner.invoke(app, ["rules", "schema", "--check", "--output", str(shipped)])
    assert result.exit_code == 0


def test_schema_check_detects_a_stale_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text("{}", encoding="utf-8")
    assert runner.invoke(app, ["rules", "schema", "--check", "-o", str(target)]).exit_code == 1
    assert runner.invoke(app, ["rules", "schema", "-o", str(target)]).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "newsalert rule file"


def test_match_prints_alert_json_lines_and_skips_bad_input(
    runner: CliRunner, tmp_path: Path
) -> None:
    articles = tmp_path / "articles.jsonl"
    good = {"id": "a1", "title": "Summit news", "body": "Yerevan will skip the CSTO summit."}
    quiet = {"id": "a2", "title": "Weather", "body": "Rain in Minsk."}
    articles.write_text(
        "\n".join([json.dumps(good), "{not json", json.dumps({"id": "a3"}), json.dumps(quiet)]),
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["match", "--rules", str(CSTO), "--input", str(articles), "--explain"]
    )
    assert result.exit_code == 0, result.output
    alerts = [
        Alert.model_validate_json(line)
        for line in result.stdout.splitlines()
        if line.startswith("{")
    ]
    assert [(a.rule_id, a.entity, a.article.id) for a in alerts] == [
        ("csto-member-skips-summit", "Armenia", "a1")
    ]
    assert f"{articles}:2: invalid article" in result.stderr
    assert f"{articles}:3: invalid article" in result.stderr
    assert "2 invalid lines skipped" in result.stderr
    assert "'skip*' matched 'skip'" in result.stderr  # --explain
