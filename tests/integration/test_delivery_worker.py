"""Delivery on the real worker, a real broker and real HTTP servers on loopback.

(a) Slack answers 429 + Retry-After and a webhook fails its first attempts: every alert still
arrives exactly once, in order, with follow-ups in the first message's thread.
(b) A destination down for the whole run ends in ``alerts.dlq``; ``newsalert dlq redrive`` (a
real subprocess) delivers it once it is up, and only once.
(c) The ``/newsalert`` slash command: a signed subscribe routes the next matching alert to the
channel, on a second worker process too; bad or stale signatures get 401 and change nothing.
(d) A worker SIGKILLed while a webhook stalls: a new worker delivers what was missing and posts
nothing twice to Slack.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from stream.broker import free_port
from stream.models import alert_id
from tests.support.kafka import produce
from tests.support.slack_server import SlackServer
from tests.support.waiting import wait_for, wait_for_async
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import REPO, WorkerProcess, unique_names

SECRET = "whsec_" + "ZGVsaXZlcnktd29ya2VyLXRlc3Qtc2VjcmV0"
TOKEN = "xoxb-test-token"
SIGNING = "signing-secret-for-the-worker-tests"
RULE = "harbour-closed"

# A rule pack of our own: a harbour closing is high, a third outlet escalates it to critical.
PACK = """\
lists:
  harbours:
    Port Alder: [Alderport]
    Port Birch: [Birchport]
rules:
  - id: harbour-closed
    name: Harbour closed to shipping
    severity: high
    tags: [csto, harbours]
    entity: $harbours
    escalate:
      - {sources: 3, severity: critical}
    when:
      all: [$harbours, closed]
    alert:
      title: "{{ entity }} harbour closed"
    examples:
      - text: "Port Alder was closed after the storm."
        expect: {entity: Port Alder}
  - id: harbour-reopened
    name: Harbour reopened
    severity: low
    tags: [csto, harbours]
    entity: $harbours
    when:
      all: [$harbours, reopened]
    examples:
      - text: "Port Birch reopened on Monday."
        expect: {entity: Port Birch}
"""

STORY = {
    "Port Alder": "Port Alder was closed to all shipping on Tuesday after a crane collapsed "
    "onto the main quay, the harbour master said.",
    "Port Birch": "Port Birch was closed overnight while divers searched the channel for a "
    "sunken barge, the port authority said.",
}


def _article(ident: str, entity: str, source: str, body: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": ident,
            "title": f"{entity} update from {source}",
            "body": body or STORY[entity],
            "url": f"https://{source}.example.org/{ident}",
            "source": source,
        }
    ).encode()


def _env(names: dict[str, str], rules: Path, **extra: str) -> dict[str, str]:
    return {
        **names,
        "NEWSALERT_RULES_DIR": str(rules),
        "NEWSALERT_CONSOLE_ALERTS": "false",
        "NEWSALERT_DELIVERY_BACKOFF_S": "0.05",
        "NEWSALERT_DELIVERY_BACKOFF_MAX_S": "0.2",
        **extra,
    }


def _rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "harbours.yml").write_text(PACK, encoding="utf-8")
    return rules


def _cli(bootstrap: str, names: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSALERT_KAFKA_BOOTSTRAP": bootstrap,
        "NEWSALERT_ALERTS_TOPIC": names["NEWSALERT_ALERTS_TOPIC"],
    }
    return subprocess.run(
        [sys.executable, "-m", "stream", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def _dlq_json(bootstrap: str, names: dict[str, str]) -> list[dict[str, Any]]:
    done = _cli(bootstrap, names, "dlq", "list", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# (a) retries, rate limits, order and threads


async def test_every_alert_arrives_once_in_order_with_threads(
    broker: Any, tmp_path: Path
) -> None:
    names = unique_names("dlv-a")
    async with SlackServer(token=TOKEN, channels={"alerts": "C0ALERTS"}) as slack, \
            WebhookReceiver(SECRET, fail_first=3) as hooks:
        env = _env(
            names, _rules(tmp_path),
            NEWSALERT_SLACK_TOKEN=TOKEN,
            NEWSALERT_SLACK_API_URL=slack.base_url,
            NEWSALERT_SLACK_CHANNELS='["alerts"]',
            NEWSALERT_SLACK_MIN_INTERVAL_S="0",  # no pacing: the server's 429s must be obeyed
            NEWSALERT_WEBHOOK_URLS=json.dumps([hooks.url]),
            NEWSALERT_WEBHOOK_SECRET=SECRET,
        )
        worker = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(worker.start)
        try:
            # One story from three outlets (same key: read in order), and a second story.
            await asyncio.to_thread(
                produce, broker.bootstrap, names["NEWSALERT_ARTICLES_TOPIC"],
                [(b"alder", _article(f"alder-{n}", "Port Alder", outlet))
                 for n, outlet in enumerate(["wire", "ledger", "courier"], 1)]
                + [(b"birch", _article("birch-1", "Port Birch", "wire"))],
            )
            await hooks.wait_for(lambda: len(hooks.received) >= 4, timeout=120)
            await slack.wait_for(lambda: len(slack.in_channel("C0ALERTS")) >= 4, timeout=120)
        finally:
            assert await asyncio.to_thread(worker.stop) == 0, worker.log_tail()

    # exactly once at the webhook, despite three 500s: ids are unique and the expected ones
    assert hooks.attempts >= 4 + 3
    payloads = [r.payload for r in hooks.received]
    assert len(payloads) == 4 and len(set(hooks.ids())) == 4
    first_alder = alert_id(RULE, "Port Alder", "alder-1")
    assert {p["id"] for p in payloads} == {
        first_alder,
        alert_id(RULE, "Port Alder", "alder-2"),
        alert_id(RULE, "Port Alder", "alder-3"),
        alert_id(RULE, "Port Birch", "birch-1"),
    }
    alder = [p for p in payloads if p["entity"] == "Port Alder"]
    assert [(p["kind"], p["severity"], p["story_sources"]) for p in alder] == [
        ("new", "high", 1), ("update", "high", 2), ("escalation", "critical", 3)
    ]
    assert {p["thread_id"] for p in alder} == {first_alder}

    # Slack: rate limited yet complete; one top-level message per story, follow-ups threaded
    assert slack.rate_limited >= 1
    assert not slack.refused, slack.refused
    top = slack.in_channel("C0ALERTS", top_level=True)
    assert len(top) == 2 and len(slack.in_channel("C0ALERTS")) == 4
    parent = next(m for m in top if "Port Alder" in m.text)
    replies = [m for m in slack.in_channel("C0ALERTS", top_level=False)]
    assert [m.thread_ts for m in replies] == [parent.ts, parent.ts]
    assert [m.text.split("]")[0] for m in replies] == ["[HIGH", "[CRITICAL"]
    assert slack.messages.index(parent) < slack.messages.index(replies[0])
    assert parent.updates == 2  # the counter follows each reply
    assert "2 follow-ups" in json.dumps(parent.blocks)


# ---------------------------------------------------------------------------------------------
# (b) dead letters and redrive


async def test_down_destination_dead_letters_then_redrive_delivers_once(
    broker: Any, tmp_path: Path
) -> None:
    names = unique_names("dlv-b")
    down_port = free_port()
    down_url = f"http://127.0.0.1:{down_port}/hook"
    ident = alert_id(RULE, "Port Birch", "birch-1")
    async with WebhookReceiver(SECRET) as live:
        env = _env(
            names, _rules(tmp_path),
            NEWSALERT_WEBHOOK_URLS=json.dumps([live.url, down_url]),
            NEWSALERT_WEBHOOK_SECRET=SECRET,
            NEWSALERT_DELIVERY_MAX_ATTEMPTS="2",
        )
        worker = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(worker.start)
        try:
            await asyncio.to_thread(
                produce, broker.bootstrap, names["NEWSALERT_ARTICLES_TOPIC"],
                [(b"birch", _article("birch-1", "Port Birch", "wire"))],
            )
            await live.wait_for(lambda: len(live.received) == 1, timeout=120)

            letters = await asyncio.to_thread(
                wait_for, lambda: _dlq_json(broker.bootstrap, names), 90, "a dead letter"
            )
            assert [(x["alert_id"], x["destination"], x["reason"]) for x in letters] == [
                (ident, f"webhook:{down_url}", "retries_exhausted")
            ]
            assert letters[0]["attempts"] == 2 and letters[0]["alert"]["id"] == ident

            async with WebhookReceiver(SECRET, port=down_port) as revived:
                # the session shown in docs/delivery.md, command by command
                examples = _documented_dlq_session()
                assert [c for c, _ in examples] == [
                    "dlq list --json", "dlq redrive --id alrt_...", "dlq list"
                ]
                for command, expected in examples:
                    args = [ident if a == "alrt_..." else a for a in command.split()]
                    done = await asyncio.to_thread(_cli, broker.bootstrap, names, *args)
                    assert done.returncode == 0, done.stderr
                    _assert_lines(done.stdout, expected, ident, names)
                    if "redrive" in args:
                        assert f"redrive {ident} -> webhook:{down_url}" in done.stdout
                        await revived.wait_for(lambda: len(revived.received) == 1, timeout=90)
                assert revived.ids() == [ident]
                assert await asyncio.to_thread(_dlq_json, broker.bootstrap, names) == []

                again = await asyncio.to_thread(
                    _cli, broker.bootstrap, names, "dlq", "redrive", "--id", ident
                )
                assert again.returncode == 1 and "no dead letter waiting" in again.stderr
                none_left = await asyncio.to_thread(
                    _cli, broker.bootstrap, names, "dlq", "redrive", "--all"
                )
                assert none_left.returncode == 0 and "queued 0 redrive(s)" in none_left.stdout

                # A redrive request that arrives again (say the CLI died before writing its
                # marker) finds the ledger's "delivered" mark and posts nothing.
                await asyncio.to_thread(_redrive_request, broker.bootstrap, names, letters[0])
                await asyncio.to_thread(
                    wait_for,
                    lambda: f"delivery {ident} -> webhook:{down_url}: duplicate"
                    in worker.log_tail(400),
                    60, "the repeated redrive to be seen as a duplicate",
                )
                assert revived.ids() == [ident]
        finally:
            assert await asyncio.to_thread(worker.stop) == 0, worker.log_tail()
    assert live.ids() == [ident], "the healthy destination got it once, and never again"


def _documented_dlq_session() -> list[tuple[str, list[str]]]:
    """(command without ``newsalert``, expected lines) from the dlq block of the delivery doc."""
    text = (REPO / "docs" / "delivery.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
               if "$ newsalert dlq" in b]
    session = []
    for chunk in re.split(r"^\$ newsalert ", block, flags=re.MULTILINE)[1:]:
        command, *output = chunk.rstrip("\n").split("\n")
        session.append((command, output))
    return session


def _assert_lines(stdout: str, expected: list[str], ident: str, names: dict[str, str]) -> None:
    """``...`` in the doc stands for any text; topic names are the test's own."""
    topic = names["NEWSALERT_ALERTS_TOPIC"]
    got = stdout.rstrip("\n").split("\n")
    assert len(got) == len(expected), (got, expected)
    for line, want in zip(got, expected, strict=True):
        want = want.replace("alrt_...", ident).replace("alerts.dlq", f"{topic}.dlq")
        want = want.replace(" on alerts", f" on {topic}")
        pattern = re.escape(want).replace(r"\.\.\.", ".*")
        assert re.fullmatch(pattern, line), (line, want)


def _redrive_request(bootstrap: str, names: dict[str, str], letter: dict[str, Any]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        alert = letter["alert"]
        producer.send(
            names["NEWSALERT_ALERTS_TOPIC"],
            key=(alert["thread_id"] or alert["id"]).encode(),
            value=json.dumps(alert).encode(),
            headers=[("newsalert-redrive", letter["destination"].encode())],
        ).get(timeout=30)
    finally:
        producer.close()


# ---------------------------------------------------------------------------------------------
# (c) the slash command


def _slash(port: int, channel: str, text: str, *, secret: str = SIGNING,
           age_s: float = 0.0) -> tuple[int, dict[str, Any]]:
    body = urllib.parse.urlencode(
        {"command": "/newsalert", "text": text, "channel_id": channel, "user_id": "U0DESK"}
    ).encode()
    ts = str(int(time.time() - age_s))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/commands",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


async def test_slash_subscription_routes_on_every_worker(broker: Any, tmp_path: Path) -> None:
    names = unique_names("dlv-c")
    channels = {"alerts": "C0ALERTS", "desk": "C0DESK", "other": "C0OTHER"}
    async with SlackServer(token=TOKEN, channels=channels) as slack:
        env = _env(
            names, _rules(tmp_path),
            NEWSALERT_SLACK_TOKEN=TOKEN,
            NEWSALERT_SLACK_API_URL=slack.base_url,
            NEWSALERT_SLACK_CHANNELS='["alerts"]',
            NEWSALERT_SLACK_MIN_INTERVAL_S="0",
            NEWSALERT_SLACK_SIGNING_SECRET=SIGNING,
        )
        first = WorkerProcess(broker.bootstrap, tmp_path, env)
        second = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(first.start)
        try:
            port = first.web_port
            # forged and stale requests: 401, and no subscription appears
            forged = await asyncio.to_thread(
                _slash, port, "C0OTHER", "subscribe tag:csto", secret="not-the-secret")
            stale = await asyncio.to_thread(
                _slash, port, "C0OTHER", "subscribe tag:csto", age_s=600)
            assert (forged[0], stale[0]) == (401, 401)
            listed = await asyncio.to_thread(_slash, port, "C0OTHER", "list")
            assert listed == (200, {"response_type": "ephemeral",
                                    "text": "this channel has no subscriptions"})

            status, body = await asyncio.to_thread(
                _slash, port, "C0DESK", "subscribe tag:csto min:high")
            assert status == 200 and body["text"].startswith("subscribed"), body

            await asyncio.to_thread(second.start)
            # the second worker reads the subscription from the compacted topic
            await asyncio.to_thread(
                wait_for,
                lambda: "tag" in _slash(second.web_port, "C0DESK", "list")[1].get("text", "")
                and "subscribed to" in _slash(second.web_port, "C0DESK", "list")[1]["text"],
                60, "the subscription on the second worker",
            )

            articles = names["NEWSALERT_ARTICLES_TOPIC"]
            await asyncio.to_thread(
                produce, broker.bootstrap, articles,
                [(b"alder", _article("alder-1", "Port Alder", "wire")),
                 # low severity: the desk asked for high and above
                 (b"birch", _article("birch-up", "Port Birch", "wire",
                                     "Port Birch reopened to ferries on Monday morning."))],
            )
            await slack.wait_for(lambda: len(slack.in_channel("C0DESK")) >= 1
                                 and len(slack.in_channel("C0ALERTS")) >= 2, timeout=120)

            # with the first worker gone, the second alone routes by the same subscription
            assert await asyncio.to_thread(first.stop) == 0, first.log_tail()
            await asyncio.to_thread(
                produce, broker.bootstrap, articles,
                [(b"birch", _article("birch-1", "Port Birch", "courier"))],
            )
            await slack.wait_for(lambda: len(slack.in_channel("C0DESK")) >= 2, timeout=180)
            line = f"delivery {alert_id(RULE, 'Port Birch', 'birch-1')} -> slack:C0DESK: delivered"
            await asyncio.to_thread(
                wait_for, lambda: line in second.log_tail(400), 30, "the second worker's log"
            )
        finally:
            first.stop()
            assert await asyncio.to_thread(second.stop) == 0, second.log_tail()

    desk = slack.in_channel("C0DESK")
    assert [m.text.split(" harbour")[0] for m in desk] == ["[HIGH] Port Alder: Port Alder",
                                                           "[HIGH] Port Birch: Port Birch"]
    assert len(slack.in_channel("C0ALERTS")) == 3  # everything, the low one included
    assert slack.in_channel("C0OTHER") == []


# ---------------------------------------------------------------------------------------------
# (d) a worker killed mid-delivery


def _ledger_entries(bootstrap: str, app_id: str) -> dict[str, tuple[int, Any]]:
    """The delivery ledger as its changelog holds it: key -> (partition, value)."""
    topic = f"{app_id}-delivery-ledger-changelog"
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=1500)
    try:
        entries: dict[str, tuple[int, Any]] = {}
        for record in consumer:
            key = json.loads(record.key)
            entries[key] = (record.partition, json.loads(record.value) if record.value else None)
        return entries
    finally:
        consumer.close()


async def test_killed_worker_leaves_nothing_undelivered_and_nothing_twice(
    broker: Any, tmp_path: Path
) -> None:
    names = unique_names("dlv-d")
    ident = alert_id(RULE, "Port Alder", "alder-1")
    async with SlackServer(token=TOKEN, channels={"alerts": "C0ALERTS"}) as slack, \
            WebhookReceiver(SECRET) as hooks:
        stalled = hooks.hold = asyncio.Event()  # the webhook takes the request and hangs
        try:
            env = _env(
                names, _rules(tmp_path),
                NEWSALERT_SLACK_TOKEN=TOKEN,
                NEWSALERT_SLACK_API_URL=slack.base_url,
                NEWSALERT_SLACK_CHANNELS='["alerts"]',
                NEWSALERT_WEBHOOK_URLS=json.dumps([hooks.url]),
                NEWSALERT_WEBHOOK_SECRET=SECRET,
            )
            doomed = WorkerProcess(broker.bootstrap, tmp_path, env)
            await asyncio.to_thread(doomed.start)
            try:
                await asyncio.to_thread(
                    produce, broker.bootstrap, names["NEWSALERT_ARTICLES_TOPIC"],
                    [(b"alder", _article("alder-1", "Port Alder", "wire"))],
                )
                await slack.wait_for(lambda: len(slack.in_channel("C0ALERTS")) == 1, timeout=120)
                # the stalled request wakes no waiter, so poll for it
                await wait_for_async(lambda: hooks.attempts >= 1, 60, "the webhook request")
                # Slack's delivery is in the ledger's changelog: what a successor will recover.
                slack_key = f"{ident}|slack:alerts"

                def recorded() -> dict[str, tuple[int, Any]] | None:
                    entries = _ledger_entries(broker.bootstrap, names["NEWSALERT_APP_ID"])
                    return entries if slack_key in entries else None

                entries = await asyncio.to_thread(
                    wait_for, recorded, 60, "the Slack delivery in the ledger changelog"
                )
                assert entries is not None
                partition, value = entries[slack_key]
                assert value["status"] == "delivered"
                assert value["partition"] == partition  # stamped for per-partition pruning
            finally:
                doomed.kill()  # mid-delivery: the webhook request is still hanging

            hooks.hold = None  # the endpoint recovers; the dead worker's request stays stuck
            successor = WorkerProcess(broker.bootstrap, tmp_path, env)
            await asyncio.to_thread(successor.start, 180.0)
            try:
                await hooks.wait_for(lambda: len(hooks.received) >= 1, timeout=180)
                await asyncio.to_thread(
                    wait_for,
                    lambda: f"delivery {ident} -> slack:alerts: duplicate"
                    in successor.log_tail(400),
                    60, "the successor to find Slack already done",
                )
            finally:
                assert await asyncio.to_thread(successor.stop) == 0, successor.log_tail()
            assert hooks.ids() == [ident]
            assert len(slack.messages) == 1, "nothing posted twice to Slack"
        finally:
            stalled.set()  # let the orphaned request end, so the server stops promptly
