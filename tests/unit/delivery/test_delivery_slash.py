"""The /newsalert slash command: signature checks, commands, and the router seeing the result."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from stream.delivery.router import Router
from stream.delivery.slash import MAX_FILTERS_PER_CHANNEL, SlashHandler, handle_slash
from stream.delivery.subscriptions import Subscriptions
from stream.models import Alert

AlertFactory = Callable[..., Alert]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_777_000_000.0


def _request(
    text: str, *, channel: str = "C0DESK", ts: float = NOW, secret: str = SECRET
) -> tuple[dict[str, str], bytes]:
    body = urlencode(
        {
            "command": "/newsalert",
            "text": text,
            "channel_id": channel,
            "user_id": "U0ANNA",
            "team_id": "T0TEAM",
        }
    ).encode()
    base = f"v0:{int(ts)}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": str(int(ts)), "X-Slack-Signature": signature}
    return headers, body


def _run(handler: SlashHandler, text: str, **kw: Any) -> tuple[int, str]:
    headers, body = _request(text, **kw)
    response = handler.handle(headers, body, NOW)
    return response.status, str(response.body.get("text", ""))


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "another-secret"},
        {"ts": NOW - 301},
        {"ts": NOW + 301},
    ],
)
def test_bad_or_stale_signatures_get_401_and_change_nothing(tamper: dict[str, Any]) -> None:
    store: dict[str, Any] = {}
    status, _ = _run(SlashHandler(SECRET, store), "subscribe tag:csto", **tamper)
    assert status == 401
    assert store == {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(NOW))},
    ],
)
def test_missing_or_garbled_headers_get_401(headers: dict[str, str]) -> None:
    store: dict[str, Any] = {}
    _, body = _request("subscribe tag:csto")
    assert handle_slash(headers, body, NOW, signing_secret=SECRET, store=store).status == 401
    assert store == {}


def test_tampered_body_is_rejected() -> None:
    store: dict[str, Any] = {}
    headers, body = _request("list")
    body = body.replace(b"list", b"subscribe")
    assert SlashHandler(SECRET, store).handle(headers, body, NOW).status == 401


def test_subscribe_list_unsubscribe_cycle(make_alert: AlertFactory) -> None:
    store: dict[str, Any] = {}
    handler = SlashHandler(SECRET, store)
    router = Router(Subscriptions(), store)
    assert _run(handler, "list") == (200, "this channel has no subscriptions")
    assert _run(handler, "subscribe tag:csto min:high") == (
        200,
        "subscribed this channel to tag:csto min:high",
    )
    assert _run(handler, 'subscribe entity:"South Korea"')[1].endswith('entity:"South Korea"')
    assert _run(handler, "subscribe tag:csto min:high")[1].startswith("already subscribed")
    assert store["C0DESK"]["updated_by"] == "U0ANNA"
    assert router.route(make_alert()) == ["slack:C0DESK"]
    assert router.route(make_alert(severity="medium")) == []
    listed = _run(handler, "list")[1]
    assert "1. tag:csto min:high" in listed and '2. entity:"South Korea"' in listed
    assert _run(handler, "unsubscribe tag:csto min:high")[1].startswith("unsubscribed")
    assert router.route(make_alert()) == []
    assert _run(handler, "unsubscribe tag:nato")[1].startswith("no subscription tag:nato")
    assert _run(handler, "unsubscribe all")[1] == "removed all 1 subscriptions of this channel"
    assert store == {}


def test_channels_are_kept_apart() -> None:
    store: dict[str, Any] = {}
    handler = SlashHandler(SECRET, store)
    _run(handler, "subscribe tag:a", channel="C1")
    _run(handler, "subscribe tag:b", channel="C2")
    assert _run(handler, "list", channel="C1")[1].endswith("1. tag:a")
    assert sorted(store) == ["C1", "C2"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "Usage:"),
        ("help", "Usage:"),
        ("dance", "unknown command `dance`"),
        ("subscribe colour:red", "unknown filter `colour:`"),
        ("subscribe min:urgent", "unknown severity `urgent`"),
        ("subscribe tag", "`tag` is not key:value"),
        ('subscribe entity:"open', "unbalanced quotes"),
    ],
)
def test_usage_errors_explain_and_change_nothing(text: str, needle: str) -> None:
    store: dict[str, Any] = {}
    status, reply = _run(SlashHandler(SECRET, store), text)
    assert status == 200 and needle in reply
    assert store == {}


def test_a_channel_cannot_pile_up_unlimited_filters() -> None:
    store: dict[str, Any] = {}
    handler = SlashHandler(SECRET, store)
    for i in range(MAX_FILTERS_PER_CHANNEL):
        _run(handler, f"subscribe tag:t{i}")
    assert "remove one" in _run(handler, "subscribe tag:extra")[1]
    assert len(store["C0DESK"]["filters"]) == MAX_FILTERS_PER_CHANNEL


def test_an_empty_signing_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        SlashHandler("", {})
