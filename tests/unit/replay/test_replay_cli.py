"""backtest, rules regress and replay through the real CLI: exit codes and output shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from replay_fakes import article_json, write_rules
from typer.testing import CliRunner

from stream.cli import _register, app

REPO = Path(__file__).resolve().parents[3]

_register()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([
        article_json("a1", "A strike shut Harbourton docks."),
        article_json("a2", "A crane at Saltmere quay fell over.",
                     published="2026-03-02T09:00:00Z"),
        b"{broken",
    ]) + b"\n")
    return path


@pytest.mark.parametrize(
    ("candidate", "status"), [({}, 0), ({"severity": "high"}, 3), ({"crane": True}, 3)]
)
def test_backtest_exit_status_gates_a_change(
    runner: CliRunner, tmp_path: Path, articles: Path, candidate: dict[str, object],
    status: int,
) -> None:
    old = write_rules(tmp_path / "old")
    new = write_rules(tmp_path / "new", **candidate)  # type: ignore[arg-type]
    args = ["backtest", "--baseline", str(old), "--candidate", str(new), "--input", str(articles)]
    result = runner.invoke(app, args)
    assert result.exit_code == status, result.output
    assert ("no difference" in result.output) == (status == 0)
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == status
    report = json.loads(as_json.stdout)
    assert report["articles"] == 2 and report["invalid"] == 1
    assert (report["added"] + report["removed"] + report["changed"] > 0) == (status == 3)


def test_backtest_text_shows_examples(runner: CliRunner, tmp_path: Path, articles: Path) -> None:
    old = write_rules(tmp_path / "old")
    new = write_rules(tmp_path / "new", severity="critical", crane=True)
    result = runner.invoke(app, ["backtest", "--baseline", str(old), "--candidate", str(new),
                                 "--input", str(articles)])
    assert result.exit_code == 3
    assert "+ crane-failure: a2 [low, Saltmere, new] Crane trouble at Saltmere" in result.output
    assert "~ port-strike: a1: severity 'medium' -> 'critical'" in result.output
    assert "1 added, 0 removed, 1 changed" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--input", "missing.jsonl"],
        [],  # neither input nor topic
        ["--input", "x.jsonl", "--topic", "articles"],
    ],
)
def test_backtest_usage_errors(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    rules = write_rules(tmp_path / "r")
    result = runner.invoke(app, ["backtest", "--baseline", str(rules), "--candidate",
                                 str(rules), *args])
    assert result.exit_code not in (0, 3), result.output


def test_rules_regress_passes_on_the_shipped_suite(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rules", "regress", str(REPO / "tests/regress/samples.yml")])
    assert result.exit_code == 0, result.output
    assert "csto-member-skips-summit" in result.output and "FAIL" not in result.output


def test_rules_regress_fails_on_drift_and_on_a_bad_suite(
    runner: CliRunner, tmp_path: Path, articles: Path
) -> None:
    write_rules(tmp_path / "rules")
    drift = tmp_path / "drift.yml"
    drift.write_text(f"rules: rules\ninput: {articles.name}\nexpect: {{port-strike: 5}}\n")
    result = runner.invoke(app, ["rules", "regress", str(drift)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "1 suite failed" in result.output
    bad = tmp_path / "bad.yml"
    bad.write_text("rules: rules\ninput: x\nexpect: {port-strike: 1}\ncolour: red\n")
    result = runner.invoke(app, ["rules", "regress", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4:" in result.output and "unknown key 'colour'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-03-01", "--from-beginning"], "choose one start"),
        (["--since", "someday"], "not a time"),
        (["--offsets", "0-4"], "PARTITION:OFFSET"),
        (["--from-beginning"], "NEWSALERT_KAFKA_BOOTSTRAP"),
    ],
)
def test_replay_rejects_bad_ranges_before_reading(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("NEWSALERT_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file
    rules = write_rules(tmp_path / "r")
    result = runner.invoke(app, ["replay", "--rules", str(rules), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
