"""The Alerts page's filters, delivery status and evidence, on a real runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_helpers import make_alert, make_runtime

from stream.runtime import RecentAlerts
from stream.web.console.alerts import AlertQuery, alert_views, facets

ROUTES = """\
version: 1
destinations:
  desk: {type: slack, channel: "#desk"}
  feed: {type: webhook, url: "https://feed.example.org/in/abc123", secret_env: FEED_SECRET}
routes:
  - {name: csto, tags: [csto], to: [desk]}
  - {name: serious, min_severity: high, to: [feed]}
"""


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, AlertQuery()),
        ({"severity": "HIGH "}, AlertQuery(severity="high")),
        ({"severity": "urgent"}, AlertQuery()),
        ({"tag": " csto ", "entity": "Armenia", "rule": "csto-*"},
         AlertQuery(tag="csto", entity="Armenia", rule="csto-*")),
    ],
)
def test_query_parses_leniently(params: dict[str, str], expected: AlertQuery) -> None:
    assert AlertQuery.parse(params) == expected


@pytest.mark.parametrize(
    ("query", "passes"),
    [
        (AlertQuery(), True),
        (AlertQuery(severity="medium"), True),   # at least medium: high passes
        (AlertQuery(severity="high"), True),
        (AlertQuery(severity="critical"), False),
        (AlertQuery(tag="CSTO"), True),
        (AlertQuery(tag="nato"), False),
        (AlertQuery(entity="armenia"), True),
        (AlertQuery(entity="Belarus"), False),
        (AlertQuery(rule="csto-member-skips-summit"), True),
        (AlertQuery(rule="csto-*"), True),
        (AlertQuery(rule="nato-*"), False),
        (AlertQuery(severity="low", tag="summit", entity="Armenia", rule="*skips*"), True),
    ],
)
def test_query_matches(query: AlertQuery, passes: bool) -> None:
    assert query.matches(make_alert()) is passes


def test_params_keep_only_set_filters() -> None:
    assert AlertQuery(severity="high", rule="x").params() == {"severity": "high", "rule": "x"}


def test_views_are_newest_first_filtered_and_limited(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    for n, severity in enumerate(["low", "high", "medium", "high"]):
        runtime.recent.add(make_alert(article_id=f"a{n}", severity=severity))
    views = alert_views(runtime.recent, runtime.router, AlertQuery(severity="high"))
    assert [v.alert.article.id for v in views] == ["a3", "a1"]
    limited = alert_views(runtime.recent, runtime.router, AlertQuery(), limit=3)
    assert [v.alert.article.id for v in limited] == ["a3", "a2", "a1"]


def test_destinations_show_outcomes_and_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_SECRET", "whsec_dGVzdC1zZWNyZXQtb25seS0xMjM0NTY3ODkwMTI=")
    runtime = make_runtime(tmp_path, subscriptions=ROUTES, slack_token="xoxb-x",
                           console_alerts=False)
    alert = make_alert()
    runtime.recent.add(alert)
    runtime.recent.delivered(alert.id, "feed", "dead_lettered")
    runtime.recent.delivered(alert.id, "old-destination", "delivered")
    (view,) = alert_views(runtime.recent, runtime.router, AlertQuery())
    got = [(d.name, d.status, d.redrivable) for d in view.deliveries]
    assert got == [
        ("desk", "pending", False),
        ("feed", "dead_lettered", True),
        ("old-destination", "delivered", False),
    ]


def test_evidence_marks_every_matched_word_once_per_snippet(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    runtime.recent.add(make_alert())
    (view,) = alert_views(runtime.recent, runtime.router, AlertQuery())
    (evidence,) = view.evidence  # both pieces share one snippet
    html = str(evidence.snippet)
    assert '<mark class="hit">not attend</mark>' in html
    assert '<mark class="hit">CSTO</mark>' in html


def test_unsafe_article_links_are_not_linked(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    runtime.recent.add(make_alert(url="javascript:alert(1)"))
    (view,) = alert_views(runtime.recent, runtime.router, AlertQuery())
    assert view.href is None


def test_facets_offer_seen_values_sorted() -> None:
    recent = RecentAlerts()
    recent.add(make_alert(article_id="1", entity="belarus", tags=("csto",)))
    recent.add(make_alert(article_id="2", entity="Armenia", tags=("summit", "csto")))
    recent.add(make_alert(article_id="3", entity=None, rule_id="other"))
    got = facets(recent)
    assert got.entities == ("Armenia", "belarus")
    assert got.tags == ("csto", "summit")
    assert got.rules == ("csto-member-skips-summit", "other")
