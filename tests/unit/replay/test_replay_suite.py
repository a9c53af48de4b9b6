"""Regression suites: loading (errors at file:line) and checking pinned counts per rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from replay_fakes import article_json, write_rules

from stream.engine import load_rules
from stream.errors import ConfigError
from stream.replay import SuiteError, check_suite, load_suite

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_rules(tmp_path / "rules", crane=True)
    (tmp_path / "in.jsonl").write_bytes(b"\n".join([
        article_json("a1", "A strike shut Harbourton docks.", published="2026-03-02T08:00:00Z"),
        article_json("a2", "Saltmere quay crews began a walkout.",
                     published="2026-03-02T09:00:00Z"),
        article_json("a3", "A crane at Saltmere quay fell over.",
                     published="2026-03-02T10:00:00Z"),
        b'{"id": "bad"}',
    ]) + b"\n")
    return tmp_path


def suite(workdir: Path, body: str) -> Path:
    path = workdir / "suite.yml"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize(
    ("expect", "unlisted", "ok", "failing"),
    [
        ("{port-strike: 2, crane-failure: 1}", "zero", True, []),
        ("{port-strike: 2}", "zero", False, ["crane-failure"]),   # an unlisted rule alerted
        ("{port-strike: 2}", "ignore", True, []),
        ("{port-strike: 3, crane-failure: 1}", "zero", False, ["port-strike"]),
        ("{port-strike: 2, crane-failure: 0}", "zero", False, ["crane-failure"]),
    ],
)
def test_counts_are_pinned_both_ways(
    workdir: Path, expect: str, unlisted: str, ok: bool, failing: list[str]
) -> None:
    path = suite(workdir, f"""\
        name: ports
        rules: rules
        input: in.jsonl
        expect: {expect}
        unlisted: {unlisted}
        """)
    loaded = load_suite(path)
    assert loaded.rules == (workdir / "rules",) and loaded.input == workdir / "in.jsonl"
    result = check_suite(loaded, load_rules(list(loaded.rules)))
    assert result.ok is ok
    assert [c.rule_id for c in result.checks if not c.ok] == failing
    assert (result.stats.articles, result.stats.invalid) == (3, 1)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("rules: [rules]\ninput: in.jsonl\nexpect: {port-strike: 1}\nexpected: 3\n", 4,
         "unknown key 'expected'"),
        ("rules: [rules]\ninput: in.jsonl\nexpect: {port-strike: -1}\n", 3, "0 or more"),
        ("rules: [rules]\ninput: in.jsonl\nexpect: {port-strike: many}\n", 3, "integer"),
        ("rules: [rules]\nexpect: {port-strike: 1}\n", 1, "exactly one of `input`"),
        ("rules: [rules]\ninput: in.jsonl\n", 1, "expect"),
        ("rules: [rules]\ntopic: {name: t, since: soon}\nexpect: {port-strike: 1}\n", 2,
         "not a time"),
        ("rules: [rules]\ninput: in.jsonl\nunlisted: some\nexpect: {port-strike: 1}\n", 3,
         "zero"),
        ("rules: [rules\n", 2, "invalid YAML"),
    ],
)
def test_invalid_suites_name_the_line(workdir: Path, body: str, line: int, message: str) -> None:
    path = suite(workdir, body)
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    problem = caught.value.problems[0]
    assert problem.file == str(path)
    assert (problem.line, message in problem.message) == (line, True), problem


def test_a_suite_naming_an_unknown_rule_is_refused(workdir: Path) -> None:
    path = suite(workdir, "rules: rules\ninput: in.jsonl\nexpect: {port-strik: 2}\n")
    loaded = load_suite(path)
    with pytest.raises(ConfigError, match="port-strik"):
        check_suite(loaded, load_rules(list(loaded.rules)))


def test_the_shipped_suite_passes() -> None:
    loaded = load_suite(REPO / "tests" / "regress" / "samples.yml")
    result = check_suite(loaded, load_rules(list(loaded.rules)))
    assert result.ok, [(c.rule_id, c.expected, c.actual) for c in result.checks]
    assert result.stats.invalid == 0 and result.stats.articles >= 5
