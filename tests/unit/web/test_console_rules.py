"""The Rules page: live rules with file, version and activity, and the last rejected edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from console_helpers import make_alert, make_runtime
from prometheus_client import CollectorRegistry, Counter

from stream.runtime import RuleActivity
from stream.web.console.rules import matches_since_start, rules_page

RULE = """\
lists:
  truce_words: [ceasefire, truce]
rules:
  - id: truce-mentioned
    name: A truce is mentioned
    severity: low
    tags: [conflict]
    when:
      any: [$truce_words]
"""

NOON = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ages_h", "expected"),
    [
        ([], 0),
        ([0], 1),
        ([0, 1, 23], 3),
        ([0, 25, 48], 1),   # older than the window: not counted
        ([-0.1], 1),        # a clock a little ahead still counts in the current bucket
    ],
)
def test_activity_counts_within_the_window(ages_h: list[float], expected: int) -> None:
    activity = RuleActivity()
    for age in ages_h:
        activity.record("r", NOON - timedelta(hours=age))
    assert activity.count("r", NOON) == expected
    assert activity.count("other", NOON) == 0


def test_activity_forgets_old_buckets() -> None:
    activity = RuleActivity(window=timedelta(hours=1), bucket_s=600)
    for minutes in range(0, 600, 10):
        activity.record("r", NOON + timedelta(minutes=minutes))
    assert len(activity._buckets["r"]) <= 8  # one window of buckets, not ten hours' worth


def test_recent_alerts_feed_the_activity(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    runtime.recent.add(make_alert(article_id="a", created_at=NOON - timedelta(hours=2)))
    runtime.recent.add(make_alert(article_id="b", created_at=NOON - timedelta(hours=30)))
    assert runtime.recent.activity.count("csto-member-skips-summit", NOON) == 1


def test_matches_since_start_reads_the_counter() -> None:
    counter = Counter("t_rule_matches", "test", ["rule"], registry=CollectorRegistry())
    counter.labels(rule="a").inc(3)
    counter.labels(rule="b").inc()
    assert matches_since_start(counter) == {"a": 3, "b": 1}


def test_rows_describe_each_live_rule(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "desk.yml").write_text(RULE)
    runtime = make_runtime(tmp_path, rules_dir=rules)
    runtime.recent.add(make_alert(rule_id="truce-mentioned", created_at=NOON))
    for hours_ago in (1, 2, 30):  # the 30-hour-old match is outside the 24 h window
        runtime.matches.record("truce-mentioned", NOON - timedelta(hours=hours_ago))
    page = rules_page(runtime, NOON, {"truce-mentioned": 7})
    (row,) = page.rows
    assert (row.id, row.file, row.line, row.severity) == (
        "truce-mentioned", "rules/desk.yml", 4, "low")
    assert row.version and page.version == runtime.rules.version
    assert (row.alerts_24h, row.matches_24h, row.matches) == (1, 2, 7)
    assert page.files == ("rules/desk.yml",)
    assert page.errors == () and page.last_reload is not None


def test_a_rejected_edit_shows_its_problems_with_lines(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "desk.yml").write_text(RULE)
    runtime = make_runtime(tmp_path, rules_dir=rules)
    version = runtime.rules.version
    (rules / "desk.yml").write_text(RULE.replace("severity: low", "severity: loud"))
    assert runtime.rules.reload()
    page = rules_page(runtime, NOON, {})
    assert page.version == version, "the old rules stay live"
    (problem,) = page.errors
    assert (problem.file, problem.line) == ("rules/desk.yml", 6)
    assert "'loud'" in problem.message


def test_shipped_rules_are_all_listed(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    page = rules_page(runtime, NOON, {})
    ids = {r.id for r in page.rows}
    assert {"csto-member-skips-summit", "csto-member-departure-risk"} <= ids
    assert len(page.rows) == len(runtime.rules.ruleset.rules)
