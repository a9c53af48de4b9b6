"""Replay and backtest on a real broker: a known set across 3 partitions, exact results.

Twelve articles, article i stamped T0 + i minutes and written to partition i % 3 in
multi-record batches (so ranges start and end inside batches); article 5 is invalid. Each
valid article reports a stoppage at its own port, so every valid article alerts once and
the expected alerts of any range can be written down.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from stream.broker import TopicSpec, ensure_topics
from stream.engine import load_rules
from stream.models import Article
from stream.replay import TopicRange, TopicReader
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import REPO

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PORTS = ["Harbourton", "Saltmere", "Kelby", "Dunmarsh", "Oxhaven", "Brackwater",
         "Fennick", "Gullport", "Marrow Bay", "Northwick", "Pellby", "Rookstone"]
INVALID = 5
RULES = """\
lists:
  ports: {{{ports}}}
  stoppage: [strike*, walkout, "down tools"]
rules:
  - id: port-stoppage
    name: Dock workers stop work at a port
    severity: {severity}
    entity: $ports
    when:
      all:
        - any: [$ports]
        - any: [$stoppage]
    alert:
      title: "Stoppage at {{{{ entity }}}}"
"""


def stamp(i: int) -> int:
    return int((T0 + timedelta(minutes=i)).timestamp() * 1000)


def value(i: int) -> bytes:
    if i == INVALID:
        return b'{"id": "art-5", "title": "missing its body"}'
    return json.dumps({
        "id": f"art-{i}",
        "title": f"Walkout at {PORTS[i]}",
        "body": f"Crews at {PORTS[i]} began a strike over night shifts, the union said.",
        "source": f"Outlet {i}",
        "published_at": (T0 + timedelta(minutes=i)).isoformat(),
    }).encode()


def write_rules(directory: Path, severity: str = "medium") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = RULES.format(ports=", ".join(f'"{p}": ["{p} docks"]' for p in PORTS), severity=severity)
    (directory / "ports.yml").write_text(text)
    return directory


@pytest.fixture(scope="module")
def topic(broker: Any) -> str:
    name = f"replay-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [TopicSpec(name=name, partitions=3)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=200)
    for i in range(12):
        producer.send(name, key=f"art-{i}".encode(), value=value(i), partition=i % 3,
                      timestamp_ms=stamp(i))
    producer.flush()
    producer.close()
    return name


def cli(broker: Any, *args: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "NEWSALERT_KAFKA_BOOTSTRAP": broker.bootstrap,
             "NEWSALERT_CONSOLE_ALERTS": "false", **(env or {})},
    )


def read(broker: Any, topic: str, span: TopicRange) -> list[tuple[int, int, int]]:
    reader = TopicReader(broker.bootstrap, topic, span, idle_timeout_s=30)
    return [(r.partition or 0, r.offset, r.timestamp_ms or 0) for r in reader]


def articles(records: list[tuple[int, int, int]]) -> list[int]:
    return [next(i for i in range(12) if stamp(i) == ts) for _, _, ts in records]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("what", "span", "expected"),
    [
        ("everything", TopicRange(from_beginning=True), list(range(12))),
        ("offsets mid-batch, listed partitions only", TopicRange(offsets={0: 2, 2: 1}),
         [5, 6, 8, 9, 11]),
        ("since inside a batch", TopicRange(since=at(4.5)), [5, 6, 7, 8, 9, 10, 11]),
        ("since and until", TopicRange(since=at(4.5), until=at(9)), [5, 6, 7, 8]),
        ("until only", TopicRange(until=at(2)), [0, 1]),
        ("since after the last record", TopicRange(since=at(60)), []),
    ],
)
def test_ranges_read_exactly_and_merge_by_time(
    broker: Any, topic: str, what: str, span: TopicRange, expected: list[int]
) -> None:
    got = read(broker, topic, span)
    assert articles(got) == expected, what
    # every record is where it was written: partition i % 3, offset i // 3
    assert [(p, o) for p, o, _ in got] == [(i % 3, i // 3) for i in expected]


def test_replay_cli_by_offsets_prints_alerts_and_counts_the_invalid(
    broker: Any, topic: str, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path / "rules")
    done = cli(broker, "replay", "--topic", topic, "--offsets", "0:2,2:1", "--rules",
               str(rules), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["article"]["id"] for a in alerts] == ["art-6", "art-8", "art-9", "art-11"]
    assert [a["entity"] for a in alerts] == [PORTS[6], PORTS[8], PORTS[9], PORTS[11]]
    assert all(a["replayed"] for a in alerts)
    # the clock is the record time
    assert alerts[0]["created_at"].startswith("2026-03-02T08:06:00")
    assert "4 articles, 1 invalid" in done.stderr
    assert "invalid p2@1: body: Field required" in done.stderr


def test_replay_cli_by_time_as_a_table(broker: Any, topic: str, tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    done = cli(broker, "replay", "--topic", topic, "--since", at(4.5).isoformat(),
               "--until", at(9).isoformat(), "--rules", str(rules))
    assert done.returncode == 0, done.stderr
    assert "3 alerts" in done.stdout
    for i in (6, 7, 8):
        assert f"art-{i}" in done.stdout
    assert "art-9" not in done.stdout and "art-4" not in done.stdout
    assert "3 articles, 1 invalid" in done.stderr


def test_backtest_two_rule_versions_on_the_topic(
    broker: Any, topic: str, tmp_path: Path
) -> None:
    old = write_rules(tmp_path / "old")
    same = cli(broker, "backtest", "--baseline", str(old), "--candidate", str(old),
               "--topic", topic, "--from-beginning")
    assert same.returncode == 0, same.stderr + same.stdout
    assert "no difference" in same.stdout
    # candidate: higher severity, and one port dropped from the list
    new = write_rules(tmp_path / "new", severity="high")
    text = (new / "ports.yml").read_text().replace('"Kelby": ["Kelby docks"], ', "")
    (new / "ports.yml").write_text(text)
    done = cli(broker, "backtest", "--baseline", str(old), "--candidate", str(new),
               "--topic", topic, "--since", at(1.5).isoformat(), "--json")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert (report["articles"], report["invalid"]) == (9, 1)  # articles 2..11, 5 invalid
    assert (report["added"], report["removed"], report["changed"]) == (0, 1, 8)
    (rule,) = report["rules"]
    assert [e["article_id"] for e in rule["examples_removed"]] == ["art-2"]
    assert {tuple(c["fields"]) for c in rule["examples_changed"]} == {("severity",)}
    assert (rule["baseline"], rule["candidate"]) == (9, 8)


async def test_deliver_sends_replayed_alerts_and_nothing_without_it(
    broker: Any, topic: str, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path / "rules")
    async with WebhookReceiver(None) as hooks:
        env = {"NEWSALERT_WEBHOOK_URLS": json.dumps([hooks.url]),
               "NEWSALERT_ALLOW_PRIVATE_DESTINATIONS": "true"}
        quiet = await asyncio.to_thread(
            cli, broker, "replay", "--topic", topic, "--offsets", "0:3", "--rules",
            str(rules), "--format", "jsonl", env=env)
        assert quiet.returncode == 0, quiet.stderr
        assert hooks.attempts == 0, "no --deliver: nothing is sent"
        done = await asyncio.to_thread(
            cli, broker, "replay", "--topic", topic, "--offsets", "0:3,1:3", "--rules",
            str(rules), "--format", "jsonl", "--deliver", env=env)
        assert done.returncode == 0, done.stderr
        await hooks.wait_for(lambda: len(hooks.received) >= 2, timeout=30)
    payloads = [r.payload for r in hooks.received]
    assert [p["article"]["id"] for p in payloads] == ["art-9", "art-10"]
    assert all(p["replayed"] is True for p in payloads)
    assert "delivered 2, dead-lettered 0" in done.stderr


def test_replay_joins_no_group_and_commits_nothing(broker: Any, topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        before = {g["group_id"] for g in admin.list_groups()}
        assert len(read(broker, topic, TopicRange())) == 12
        after = {g["group_id"] for g in admin.list_groups()}
    finally:
        admin.close()
    assert after == before


def test_rules_still_load_from_the_written_pack(tmp_path: Path) -> None:
    """The pack this module writes is valid and alerts on the sample text it produces."""
    ruleset = load_rules([write_rules(tmp_path / "rules")])
    found = ruleset.evaluate(Article.model_validate_json(value(3)))
    assert [(m.rule_id, m.entity) for m in found] == [("port-stoppage", PORTS[3])]


def test_produce_with_publication_times_then_replay_by_time(
    broker: Any, tmp_path: Path
) -> None:
    """Loading last week's articles with their own times makes --since mean publication."""
    name = f"replay-load-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [TopicSpec(name=name, partitions=3)])
    path = tmp_path / "week.jsonl"
    path.write_bytes(b"\n".join(value(i) for i in range(12)) + b"\n")
    loaded = cli(broker, "produce", str(path), "--topic", name, "--timestamps", "published")
    assert loaded.returncode == 0, loaded.stderr
    assert "sent 11, skipped 1" in loaded.stdout
    rules = write_rules(tmp_path / "rules")
    done = cli(broker, "replay", "--topic", name, "--since", at(7.5).isoformat(), "--rules",
               str(rules), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["article"]["id"] for a in alerts] == ["art-8", "art-9", "art-10", "art-11"]


def test_replay_of_a_live_topic_stops_at_the_end_captured_at_start(broker: Any) -> None:
    """A producer keeps writing during the replay; the replay still ends by itself."""
    import threading

    name = f"replay-live-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [TopicSpec(name=name, partitions=3)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
    for i in range(300):
        producer.send(name, value=value(i % 12), partition=i % 3)
    producer.flush()
    stop = threading.Event()
    sent = [300]

    def keep_writing() -> None:
        while not stop.is_set():
            producer.send(name, value=value(1), partition=sent[0] % 3)
            producer.flush()
            sent[0] += 1

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        reader = TopicReader(broker.bootstrap, name, TopicRange(), idle_timeout_s=30)
        count = sum(1 for _ in reader)
    finally:
        stop.set()
        writer.join(timeout=30)
        producer.close()
    assert 300 <= count < sent[0], (count, sent[0])
    assert sum(plan.stop - plan.start for plan in reader.plans) == count
