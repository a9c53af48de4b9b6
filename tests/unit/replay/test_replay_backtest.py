"""Backtest: added, removed and changed alerts per rule, with examples and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from replay_fakes import article_json, write_rules

from stream.engine import load_rules
from stream.replay import SourceRecord, backtest

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BODIES = [
    ("a1", "Dock workers at Harbourton docks began a strike on Monday over pay."),
    ("a2", "Crews at Saltmere quay voted to down tools after a crane collapsed."),
    ("a3", "A crane at Harbourton docks was repaired overnight."),
    ("a4", "Tourists enjoyed the fish market near Saltmere quay."),
]


def records() -> list[SourceRecord]:
    out = [
        SourceRecord(0, n, int((START + timedelta(hours=10 * n)).timestamp() * 1000),
                     article_json(ident, body))
        for n, (ident, body) in enumerate(BODIES)
    ]
    out.append(SourceRecord(0, 99, None, b"not json"))
    return out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # (what the candidate changes, (added, removed, changed, rules with a difference))
        ({}, (0, 0, 0, [])),
        ({"severity": "high"}, (0, 0, 2, ["port-strike"])),
        ({"crane": True}, (2, 0, 0, ["crane-failure"])),
    ],
)
def test_differences(tmp_path: Path, change: dict[str, object],
                     expected: tuple[int, int, int, list[str]]) -> None:
    baseline = load_rules([write_rules(tmp_path / "a")])
    candidate = load_rules([write_rules(tmp_path / "b", **change)])  # type: ignore[arg-type]
    report = backtest(records(), baseline, candidate)
    added, removed, changed, rules = expected
    assert (report.added, report.removed, report.changed) == (added, removed, changed)
    assert [d.rule_id for d in report.rules if d.differs] == rules
    assert report.empty == (not rules)
    assert (report.articles, report.invalid) == (4, 1)
    assert report.invalid_shown[0].startswith("p0@99: invalid JSON")


def test_removed_is_the_mirror_of_added_and_examples_are_capped(tmp_path: Path) -> None:
    with_crane = load_rules([write_rules(tmp_path / "a", crane=True)])
    without = load_rules([write_rules(tmp_path / "b")])
    report = backtest(records(), with_crane, without, examples=1)
    assert (report.added, report.removed, report.changed) == (0, 2, 0)
    assert report.rules_removed == ["crane-failure"] and report.rules_added == []
    crane = next(d for d in report.rules if d.rule_id == "crane-failure")
    assert (crane.baseline, crane.candidate, crane.removed) == (2, 0, 2)
    assert [e.article_id for e in crane.examples_removed] == ["a2"]  # capped at one
    strike = next(d for d in report.rules if d.rule_id == "port-strike")
    assert not strike.differs and strike.baseline == strike.candidate == 2


def test_a_change_names_the_fields_and_both_sides(tmp_path: Path) -> None:
    baseline = load_rules([write_rules(tmp_path / "a")])
    candidate = load_rules([write_rules(tmp_path / "b", severity="critical")])
    report = backtest(records(), baseline, candidate)
    change = report.rules[0].examples_changed[0]
    assert change.fields == ("severity",)
    assert (change.baseline.severity, change.candidate.severity) == ("medium", "critical")
    assert change.baseline.article_id == change.candidate.article_id == "a1"
    assert report.baseline_alerts == report.candidate_alerts == 2
