"""Webhooks over real HTTP on loopback: signatures checked by the standardwebhooks package,
retries through failures, dead letters for a destination that stays down, and a redrive."""

from __future__ import annotations

import asyncio
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream.delivery import DeadLetter, Dispatcher, RetryPolicy, build_router, build_sinks
from stream.delivery.subscriptions import parse_subscriptions
from stream.models import Alert, Article, Match
from stream.settings import Settings

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # tests.support lives under the repository root
    sys.path.insert(0, _ROOT)

from tests.support.webhook_receiver import WebhookReceiver  # noqa: E402

SECRET = "whsec_" + "aW50ZWdyYXRpb24tdGVzdC1zZWNyZXQ="
FAST = RetryPolicy(base_delay_s=0.02, max_delay_s=0.1, max_attempts=4, budget_s=10)


def _alert(n: int, **update: Any) -> Alert:
    article = Article(
        id=f"wire-{n}",
        title=f"Report {n}: Armenia weighs its CSTO seat",
        body="Yerevan again questioned the value of its CSTO membership.",
        url=f"https://news.example.org/{n}",
        source="example-wire",
    )
    match = Match(
        rule_id="alliances.csto.departure_risk",
        rule_name="CSTO member may leave",
        rule_version="v1",
        severity="high",
        entity="Armenia",
        tags=("csto",),
        title="Armenia may leave the CSTO",
    )
    alert = Alert.from_match(match, article, now=datetime(2026, 5, 1, tzinfo=UTC))
    return alert.model_copy(update=update)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class World:
    """A dispatcher built the way the worker builds it, from a subscriptions document."""

    def __init__(self, doc: str, policy: RetryPolicy = FAST) -> None:
        settings = Settings(console_alerts=False, allow_private_destinations=False)
        self.router = build_router(settings, None)
        self.router.reload(parse_subscriptions(doc))
        self.sinks = build_sinks(settings, self.router.subscriptions)
        self.ledger: dict[str, Any] = {}
        self.dead: list[DeadLetter] = []
        self.dispatcher = Dispatcher(self.sinks, self.router, self.ledger, self._bury, policy)

    async def _bury(self, letter: DeadLetter) -> None:
        self.dead.append(letter)


def _doc(url: str, **extra: str) -> str:
    options = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (
        "destinations:\n  hook:\n    type: webhook\n"
        f"    url: {url}\n    secret_env: TEST_HOOK_SECRET\n    allow_private: true\n"
        f"{options}routes:\n  - to: [hook]\n"
    )


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)


async def test_signed_delivery_survives_first_failures_and_arrives_once() -> None:
    async with WebhookReceiver(SECRET, fail_first=2) as receiver:
        world = World(_doc(receiver.url, headers="{X-Team: eurasia}", timeout_s="5"))
        alerts = [_alert(i) for i in range(3)]
        for alert in alerts:
            report = await world.dispatcher.dispatch(alert)
            assert report.by_status("delivered") == ["hook"]
        for alert in alerts:  # the same alerts again, as after a rebalance
            assert (await world.dispatcher.dispatch(alert)).by_status("duplicate") == ["hook"]
        await world.sinks.aclose()
    assert receiver.attempts == 5
    assert receiver.rejected == []
    assert receiver.ids() == [a.id for a in alerts]
    first = receiver.received[0]
    assert first.payload["entity"] == "Armenia" and first.payload["article"]["id"] == "wire-0"
    assert first.headers["x-team"] == "eurasia"
    assert world.ledger[f"{alerts[0].id}|hook"]["attempts"] == 3


async def test_wrong_secret_is_caught_by_the_receiver() -> None:
    other = "whsec_" + "c29tZS1vdGhlci1zZWNyZXQ="
    async with WebhookReceiver(other) as receiver:
        world = World(_doc(receiver.url))
        report = await world.dispatcher.dispatch(_alert(1))
        await world.sinks.aclose()
    assert report.by_status("dead_lettered") == ["hook"]
    assert receiver.rejected == ["No matching signature found"]
    assert world.dead[0].reason == "not_retryable"
    assert "HTTP 401" in world.dead[0].last_error


async def test_retry_after_from_a_webhook_is_waited_for() -> None:
    async with WebhookReceiver(SECRET, fail_first=1, fail_status=429, retry_after="1") as rx:
        world = World(_doc(rx.url), RetryPolicy(base_delay_s=0.01, max_attempts=2))
        clock: list[float] = []
        original = world.dispatcher._clock

        def tick() -> float:
            clock.append(original())
            return clock[-1]

        world.dispatcher._clock = tick
        report = await world.dispatcher.dispatch(_alert(1))
        await world.sinks.aclose()
    assert report.outcomes[0].attempts == 2
    assert clock[-1] - clock[0] >= 1.0


async def test_client_errors_are_not_retried() -> None:
    async with WebhookReceiver(SECRET, fail_first=10, fail_status=404) as receiver:
        world = World(_doc(receiver.url))
        await world.dispatcher.dispatch(_alert(1))
        await world.sinks.aclose()
    assert receiver.attempts == 1
    assert [(d.reason, d.attempts) for d in world.dead] == [("not_retryable", 1)]


async def test_stalled_endpoint_times_out_and_is_retried() -> None:
    async with WebhookReceiver(SECRET) as receiver:
        world = World(_doc(receiver.url, timeout_s="0.2"))
        receiver.hold = asyncio.Event()
        task = await world.dispatcher.submit(_alert(1))
        await receiver.wait_for(lambda: receiver.attempts >= 2, timeout=10)
        receiver.hold.set()
        report = await asyncio.wait_for(task, timeout=10)
        await world.sinks.aclose()
    assert report.by_status("delivered") == ["hook"]
    assert report.outcomes[0].attempts >= 2
    # A request the sender gave up on may still be processed late; receivers deduplicate on
    # webhook-id, which is the alert id on every attempt.
    assert set(receiver.ids()) == {_alert(1).id}


async def test_destination_down_all_along_is_dead_lettered_then_redriven() -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    world = World(_doc(url))
    alert = _alert(7)
    report = await world.dispatcher.dispatch(alert)
    assert report.by_status("dead_lettered") == ["hook"]
    [letter] = world.dead
    assert (letter.reason, letter.attempts) == ("retries_exhausted", FAST.max_attempts)
    assert "ConnectError" in letter.last_error
    # the dead letter travels as JSON (the alerts.dlq topic) and comes back intact
    letter = DeadLetter.model_validate_json(letter.model_dump_json())
    async with WebhookReceiver(SECRET, port=port) as receiver:
        outcome = await world.dispatcher.redrive(letter)
        again = await world.dispatcher.redrive(letter)
        await world.sinks.aclose()
    assert outcome.status == "delivered" and again.status == "duplicate"
    assert receiver.ids() == [alert.id]
