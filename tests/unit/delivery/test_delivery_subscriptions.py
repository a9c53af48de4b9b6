"""Subscriptions file: validation with file:line problems, filters, routing and sinks."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from stream.delivery.console import ConsoleSink
from stream.delivery.router import Router, build_router, build_sinks, dynamic_name
from stream.delivery.slack import SlackSink
from stream.delivery.slash import parse_filter
from stream.delivery.subscriptions import (
    Filter,
    SubscriptionsError,
    load_subscriptions,
    parse_subscriptions,
)
from stream.delivery.webhook import WebhookSink
from stream.errors import ConfigError
from stream.models import Alert
from stream.settings import Settings

AlertFactory = Callable[..., Alert]
SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5"

VALID = """\
version: 1
destinations:
  desk:
    type: slack
    channel: "#alerts"
  partner:
    type: webhook
    url: https://hooks.example.org/newsalert
    secret_env: PARTNER_SECRET
    headers: {X-Team: eurasia}
    timeout_s: 5
  screen:
    type: console
routes:
  - name: csto-high
    rules: ["alliances.csto.*"]
    min_severity: high
    to: [desk, partner]
  - name: all-armenia
    entities: [armenia]
    to: [screen, desk]
"""


def test_valid_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yml"
    path.write_text(VALID)
    subs = load_subscriptions(path)
    assert list(subs.destinations) == ["desk", "partner", "screen"]
    assert subs.routes[0].rules == ("alliances.csto.*",)


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("destinations:\n  a:\n    type: slack\n    chanel: x\n", 4, "did you mean 'channel'"),
        (
            "destinations:\n  h:\n    type: webhook\n    url: https://x.example\n"
            "    secret: whsec_abc\n",
            5,
            "never put secrets here",
        ),
        (
            "destinations:\n  a: {type: console}\nroutes:\n  - to: [b]\n",
            4,
            "unknown destination 'b'",
        ),
        ("routes:\n  - to: [a]\n    min_severity: urgent\n", 3, "min_severity"),
        ("destinations:\n  a: {type: pager}\n", 2, "type"),
        ("destinations:\n  a: {type: webhook, url: ftp://x}\n", 2, "https://"),
        ("routes:\n  - tags: [x]\n", 2, "to"),
        ("routes: [\n", 2, "YAML"),
        ("version: 2\n", 1, "version"),
    ],
)
def test_problems_name_file_and_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(SubscriptionsError) as info:
        parse_subscriptions(text, file="subs.yml")
    problems = info.value.problems
    assert any(p.line == line and needle in p.message for p in problems), problems
    assert str(info.value).startswith("subs.yml:")
    assert isinstance(info.value, ConfigError)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read subscriptions file"):
        load_subscriptions(tmp_path / "absent.yml")


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        (Filter(), True),
        (Filter(min_severity="high"), True),
        (Filter(min_severity="critical"), False),
        (Filter(rules=("alliances.*",)), True),
        (Filter(rules=("markets.*", "alliances.csto.summit_*")), True),
        (Filter(rules=("alliances.nato.*",)), False),
        (Filter(tags=("CSTO",)), True),
        (Filter(tags=("nato",)), False),
        (Filter(entities=("armenia",)), True),
        (Filter(entities=("Georgia",)), False),
        (Filter(tags=("csto",), entities=("Georgia",)), False),
    ],
)
def test_filter_matching(make_alert: AlertFactory, filt: Filter, expected: bool) -> None:
    assert filt.matches(make_alert()) is expected


def test_filter_description_round_trips_through_slash_syntax() -> None:
    filt = Filter(tags=("csto",), entities=("South Korea",), rules=("a.*",), min_severity="high")
    assert parse_filter(shlex.split(filt.describe())) == filt


def test_routes_union_in_order_with_slash_channels(make_alert: AlertFactory) -> None:
    subs = parse_subscriptions(VALID)
    dynamic = {
        "C2": {"channel": "C2", "filters": [{"tags": ["csto"]}]},
        "C1": {
            "channel": "C1",
            "filters": [{"min_severity": "critical"}, {"entities": ["Armenia"]}],
        },
        "C3": {"channel": "C3", "filters": [{"tags": ["nato"]}]},
        "broken": {"nonsense": True},
    }
    router = Router(subs, dynamic)
    assert router.route(make_alert()) == ["desk", "partner", "screen", "slack:C1", "slack:C2"]
    assert router.route(make_alert(severity="medium")) == ["screen", "desk", "slack:C1", "slack:C2"]
    assert router.route(make_alert(entity="Georgia", severity="low", tags=())) == []
    vias = {(h.destination, h.via) for h in router.explain(make_alert())}
    assert ("partner", "csto-high") in vias and ("slack:C1", "slash: entity:Armenia") in vias


def test_settings_shorthand_adds_catch_all_routes(make_alert: AlertFactory) -> None:
    settings = Settings(
        slack_channels=["#ops"],
        webhook_urls=["https://hooks.example.org/a"],
        console_alerts=True,
        slack_token="xoxb-1",
        webhook_secret=SECRET,
    )
    router = build_router(settings, None)
    names = ["slack:#ops", "webhook:https://hooks.example.org/a", "console"]
    assert router.route(make_alert(severity="info", tags=())) == names
    sinks = build_sinks(settings, router.subscriptions)
    assert isinstance(sinks["slack:#ops"], SlackSink)
    assert isinstance(sinks["webhook:https://hooks.example.org/a"], WebhookSink)
    assert isinstance(sinks["console"], ConsoleSink)


def test_sinks_are_built_lazily_for_slash_channels_and_rebuilt_on_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTNER_SECRET", SECRET)
    settings = Settings(slack_token="xoxb-1", console_alerts=False)
    sinks = build_sinks(settings, parse_subscriptions(VALID))
    channel = sinks[dynamic_name("C9")]
    assert isinstance(channel, SlackSink) and channel.channel == "C9"
    assert sinks[dynamic_name("C9")] is channel
    with pytest.raises(KeyError):
        sinks["nope"]
    desk = sinks["desk"]
    stale = sinks.update(parse_subscriptions(VALID.replace('"#alerts"', '"#other"')))
    assert desk in stale and sinks["desk"] is not desk
    assert sorted(sinks) == ["desk", "partner", "screen"]


@pytest.mark.parametrize(
    ("settings", "env", "match"),
    [
        ({"console_alerts": False}, {"PARTNER_SECRET": SECRET}, "NEWSALERT_SLACK_TOKEN"),
        ({"slack_token": "x"}, {}, "PARTNER_SECRET"),
        ({"slack_token": "x"}, {"PARTNER_SECRET": "not base64!"}, "whsec_"),
    ],
)
def test_missing_credentials_fail_at_start(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, object], env: dict[str, str], match: str
) -> None:
    monkeypatch.delenv("PARTNER_SECRET", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=match):
        build_sinks(Settings(**settings), parse_subscriptions(VALID))  # type: ignore[arg-type]


def test_private_webhook_refused_unless_allowed() -> None:
    doc = "destinations:\n  h: {type: webhook, url: 'http://127.0.0.1:9/x'}\n"
    with pytest.raises(ConfigError, match="allow_private"):
        build_sinks(Settings(), parse_subscriptions(doc))
    assert build_sinks(Settings(allow_private_destinations=True), parse_subscriptions(doc))["h"]
    allowed = doc.replace("}", ", allow_private: true}")
    assert build_sinks(Settings(), parse_subscriptions(allowed))["h"]
