"""The Subscriptions page: what routes where, secret-free, and the routing check."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_helpers import make_alert, make_runtime

from stream.delivery.router import RouteHit
from stream.runtime import Runtime
from stream.web.console.subs import check_alert, subscriptions_page

FILE = """\
version: 1
destinations:
  desk: {type: slack, channel: "#eurasia-desk", token_env: DESK_BOT_TOKEN}
  partner:
    type: webhook
    url: "https://partner.example.org/hooks/k-9f8e7d?sig=abcdef"
    secret_env: PARTNER_SECRET
    headers: {Authorization: "Bearer hdr-value-42"}
  screen: {type: console}
routes:
  - {name: csto-desk, tags: [csto], to: [desk]}
  - {rules: ["*-departure-risk"], min_severity: high, to: [partner, desk]}
"""

SLASH = {
    "C1": {"channel": "C1", "filters": [{"tags": ["summit"], "min_severity": "high"}],
           "updated_by": "U7", "updated_at": 1_777_000_000.0},
    "broken": {"nonsense": True},
}


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("DESK_BOT_TOKEN", "xoxb-desk-token-value")
    monkeypatch.setenv("PARTNER_SECRET", "whsec_cGFydG5lci1zZWNyZXQtdmFsdWUtMTIzNDU2Nzg=")
    return make_runtime(tmp_path, subscriptions=FILE, dynamic=SLASH, console_alerts=False)


def test_destinations_are_described_without_secrets(runtime: Runtime) -> None:
    page = subscriptions_page(runtime.router, "subscriptions.yml")
    rows = {d.name: d for d in page.destinations}
    assert rows["desk"].kind == "slack" and rows["desk"].target == "#eurasia-desk"
    assert "bot token from $DESK_BOT_TOKEN" in rows["desk"].notes
    assert rows["partner"].target == "https://partner.example.org/…"
    assert rows["partner"].notes[:2] == ("signed (secret from $PARTNER_SECRET)",
                                         "extra headers: Authorization")
    assert rows["screen"].kind == "console"
    flat = repr(page)
    for secret in ("k-9f8e7d", "abcdef", "hdr-value-42", "xoxb-desk", "whsec_"):
        assert secret not in flat


def test_routes_and_slash_channels(runtime: Runtime) -> None:
    page = subscriptions_page(runtime.router, None)
    assert [(r.name, r.to) for r in page.routes] == [
        ("csto-desk", ("desk",)), ("routes[1]", ("partner", "desk"))]
    assert page.routes[1].min_severity == "high"
    (slash,) = page.dynamic  # the unreadable value is skipped
    assert slash.channel == "C1"
    assert slash.filters == ("tag:summit min:high",)
    assert slash.updated_at is not None and slash.updated_at.year == 2026


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),
        ({"rule": "csto-member-skips-summit"},
         [RouteHit("desk", "csto-desk"), RouteHit("slack:C1", "slash: tag:summit min:high")]),
        ({"rule": "csto-member-departure-risk"}, [RouteHit("desk", "csto-desk")]),
        ({"rule": "csto-member-departure-risk", "severity": "critical"},
         [RouteHit("desk", "csto-desk"), RouteHit("partner", "routes[1]"),
          RouteHit("desk", "routes[1]")]),
        ({"rule": "unknown-rule", "tags": "summit, x"}, []),
        ({"rule": "unknown-rule", "tags": "summit", "severity": "high"},
         [RouteHit("slack:C1", "slash: tag:summit min:high")]),
    ],
)
def test_check_routes_a_described_alert(
    runtime: Runtime, params: dict[str, str], expected: list[RouteHit] | None
) -> None:
    result = check_alert(params, runtime.router, runtime.rules.ruleset, runtime.recent)
    if expected is None:
        assert result is None
        return
    assert result is not None
    assert list(result.hits) == expected


def test_check_a_recent_alert_by_id(runtime: Runtime) -> None:
    alert = make_alert(severity="low")
    runtime.recent.add(alert)
    result = check_alert({"alert": alert.id}, runtime.router, runtime.rules.ruleset,
                         runtime.recent)
    assert result is not None and result.alert == alert
    assert list(result.hits) == [RouteHit("desk", "csto-desk")]
    assert check_alert({"alert": "alrt_gone"}, runtime.router, runtime.rules.ruleset,
                       runtime.recent) is None
