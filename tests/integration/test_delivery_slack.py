"""Slack delivery with the real slack-sdk AsyncWebClient against a local Slack-compatible
server that enforces tokens, channels, Block Kit limits and per-channel rate limits."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream.delivery import DeadLetter, Dispatcher, RetryPolicy, build_router, build_sinks
from stream.delivery.subscriptions import parse_subscriptions
from stream.models import Alert, Article, Evidence, Match
from stream.settings import Settings

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # tests.support lives under the repository root
    sys.path.insert(0, _ROOT)

from tests.support.slack_server import SlackServer  # noqa: E402
from tests.support.webhook_receiver import WebhookReceiver  # noqa: E402

TOKEN = "xoxb-integration-token"
CHANNELS = {"alerts": "C0ALERTS", "desk": "C0DESK"}
POLICY = RetryPolicy(base_delay_s=0.05, max_delay_s=0.2, max_attempts=4, budget_s=30)


def _alert(n: int, *, story: str, kind: str = "new", severity: str = "high", **kw: Any) -> Alert:
    article = Article(
        id=f"wire-{n}",
        title=f"Dispatch {n}: Armenia and the CSTO",
        body="Yerevan kept its distance from the alliance meeting once more.",
        url=f"https://news.example.org/{n}",
        source=f"outlet-{n}",
    )
    match = Match(
        rule_id=kw.pop("rule_id", "alliances.csto.summit_skip"),
        rule_name="CSTO member skips a summit",
        rule_version="v1",
        severity=severity,  # type: ignore[arg-type]
        entity="Armenia",
        tags=("csto",),
        title=f"Armenia skips the CSTO summit ({n})",
        evidence=(
            Evidence(
                field="body",
                term="alliance",
                text="alliance",
                start=33,
                end=41,
                snippet="kept its distance from the alliance meeting",
            ),
        ),
    )
    alert = Alert.from_match(match, article, now=datetime(2026, 5, 1, tzinfo=UTC))
    return alert.model_copy(update={"thread_id": story, "kind": kind, **kw})


class World:
    def __init__(self, server: SlackServer, doc: str, *, token: str = TOKEN) -> None:
        self.settings = Settings(
            slack_token=token, slack_api_url=server.base_url, console_alerts=False
        )
        self.router = build_router(self.settings, None)
        self.router.reload(parse_subscriptions(doc))
        self.sinks = build_sinks(self.settings, self.router.subscriptions)
        self.ledger: dict[str, Any] = {}
        self.dead: list[DeadLetter] = []
        self.dispatcher = Dispatcher(self.sinks, self.router, self.ledger, self._bury, POLICY)

    async def _bury(self, letter: DeadLetter) -> None:
        self.dead.append(letter)


def _doc(channel: str = "#alerts", pacing: float = 1.0) -> str:
    return (
        "destinations:\n  team:\n    type: slack\n"
        f"    channel: '{channel}'\n    min_interval_s: {pacing}\n"
        "routes:\n  - to: [team]\n"
    )


def _story_alerts() -> list[Alert]:
    return [
        _alert(1, story="s1"),
        _alert(2, story="s1", kind="escalation", severity="critical", story_sources=2),
        _alert(3, story="s2", rule_id="alliances.csto.departure_risk"),
        _alert(4, story="s1", kind="update", severity="critical", story_sources=3),
    ]


@pytest.mark.parametrize("pacing", [0.0, 1.0], ids=["unpaced-hits-429", "paced"])
async def test_every_alert_once_in_order_with_threads(pacing: float) -> None:
    async with SlackServer(token=TOKEN, channels=CHANNELS) as server:
        world = World(server, _doc(pacing=pacing))
        alerts = _story_alerts()
        tasks = [await world.dispatcher.submit(a) for a in alerts]
        async with asyncio.timeout(30):
            reports = await asyncio.gather(*tasks)
        # Redelivery of the same alerts (a restarted worker) posts nothing new.
        again = [await world.dispatcher.dispatch(a) for a in alerts]
    assert [r.by_status("delivered") for r in reports] == [["team"]] * 4
    assert [r.by_status("duplicate") for r in again] == [["team"]] * 4
    assert world.dead == []
    if pacing == 0.0:
        assert server.rate_limited >= 1  # the server pushed back and we waited as told
    else:
        assert server.rate_limited == 0  # pacing kept us under the limit

    posted = server.in_channel("C0ALERTS")
    assert [m.text.rsplit("(", 1)[1] for m in posted] == ["1)", "2)", "3)", "4)"]  # in order
    parent, reply1, other, reply2 = posted
    assert parent.thread_ts is None and other.thread_ts is None
    assert reply1.thread_ts == parent.ts and reply2.thread_ts == parent.ts
    assert parent.updates == 2
    counter = parent.blocks[-1]["elements"][0]["text"]
    assert counter == (
        ":thread: *2 follow-ups* in thread · now CRITICAL · 1 article from 3 sources"
    )
    assert parent.blocks[0]["text"]["text"].startswith(":large_orange_circle: HIGH")
    assert "*alliance*" in parent.history[0]["blocks"][3]["text"]["text"]


async def test_server_errors_are_retried_and_post_once() -> None:
    async with SlackServer(token=TOKEN, channels=CHANNELS) as server:
        world = World(server, _doc())
        server.fail_next(2, status=500)
        report = await world.dispatcher.dispatch(_alert(1, story="s1"))
    assert report.outcomes[0].status == "delivered"
    assert report.outcomes[0].attempts == 3
    assert len(server.messages) == 1


@pytest.mark.parametrize(
    ("token", "channel", "error"),
    [
        ("xoxb-revoked", "#alerts", "invalid_auth"),
        (TOKEN, "#nowhere", "channel_not_found"),
    ],
)
async def test_refusals_are_dead_lettered_at_once(token: str, channel: str, error: str) -> None:
    async with SlackServer(token=TOKEN, channels=CHANNELS) as server:
        world = World(server, _doc(channel=channel), token=token)
        report = await world.dispatcher.dispatch(_alert(1, story="s1"))
    assert report.by_status("dead_lettered") == ["team"]
    [letter] = world.dead
    assert (letter.reason, letter.attempts) == ("not_retryable", 1)
    assert error in letter.last_error
    assert server.messages == []


async def test_a_stalled_webhook_does_not_hold_up_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "whsec_" + "aW50ZWdyYXRpb24tdGVzdC1zZWNyZXQ="
    monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    async with (
        SlackServer(token=TOKEN, channels=CHANNELS) as server,
        WebhookReceiver(secret) as receiver,
    ):
        doc = (
            "destinations:\n"
            "  team: {type: slack, channel: '#desk', min_interval_s: 0}\n"
            f"  hook: {{type: webhook, url: '{receiver.url}', allow_private: true,"
            " timeout_s: 30, secret_env: TEST_HOOK_SECRET}\n"
            "routes:\n  - to: [hook, team]\n"
        )
        world = World(server, doc)
        receiver.hold = asyncio.Event()
        alerts = [_alert(i, story=f"s{i}") for i in range(3)]
        tasks = [await world.dispatcher.submit(a) for a in alerts]
        await server.wait_for(lambda: len(server.in_channel("C0DESK")) == 3, timeout=20)
        assert receiver.received == [] and not any(t.done() for t in tasks)
        receiver.hold.set()
        async with asyncio.timeout(20):
            await world.dispatcher.drain()
        await world.sinks.aclose()
    assert receiver.ids() == [a.id for a in alerts]
