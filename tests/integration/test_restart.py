"""Restart safety on a real broker: a worker is SIGKILLed while a corroboration threshold is
half reached, or right after a match was decided, and a new worker with the same app id takes
over from the ``alert-state`` changelog.

One story about a made-up harbour is reported by four outlets, under a rule that fires at the
third distinct source (``threshold: {sources: 3, within: 7d}``). Whatever the kill point, the
webhook receiver must get exactly the crash-free run's alerts: the ``new`` alert at the third
outlet, then the ``update`` for the fourth, each once. Every wait is on a condition with a
deadline: the changelog (read straight from the broker) shows a decision is durable, the
receiver shows an alert arrived.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AIOTopicPartition
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream.app import producer_batch_bytes
from stream.broker.topics import TopicSpec, ensure_topics
from stream.models import Article
from stream.settings import Settings
from stream.state.stories import doc_id
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import Received, WebhookReceiver
from tests.support.worker import REPO, WorkerProcess, unique_names

SECRET = "whsec_" + "cmVzdGFydC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"
RULE_ID = "restart-harbour-closure"
PARTITIONS = 2

# A rule of our own beside the shipped packs: three outlets within a week before it fires.
RULE_PACK = """\
lists:
  harbours:
    Velmar: [Port Velmar]
  closure: [clos*, shut*, blockad*]
rules:
  - id: restart-harbour-closure
    name: Harbour closure corroborated by three outlets
    severity: high
    tags: [restart-test]
    entity: $harbours
    dedup: 12h
    threshold: {sources: 3, within: 7d}
    when:
      all:
        - any: [$harbours]
        - near: [$harbours, $closure]
          within: 6
    alert:
      title: "{{ entity }} harbour closed"
"""

# Written for this test: the wire story every outlet republishes word for word.
WIRE = (
    "Harbour officials said on Wednesday that Port Velmar was closed to all cargo traffic "
    "after a crane collapsed onto the main quay overnight. Nobody was hurt, according to the "
    "port's operator, but engineers need several days to inspect the damaged berths, and "
    "ships already at anchor were told to wait offshore or sail to another terminal."
)
OUTLETS = ["ledger", "courier", "herald", "gazette"]

# Faust bounds how long recovery and a group rejoin may take; Tansu can hold a rejoin until
# the killed member's 10 s session has timed out and a rebalance round has passed.
START_S = 150.0
ALERT_S = 120.0


def _article(outlet: str) -> Article:
    return Article(
        id=f"velmar-{outlet}",
        title=f"{outlet.title()}: cargo halted at Port Velmar",
        body=WIRE,
        url=f"https://{outlet}.example.net/world/velmar-harbour",
        source=outlet,
    )


ARTICLES = {outlet: _article(outlet) for outlet in OUTLETS}


def _rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO / "rules", target)
    (target / "restart").mkdir()
    (target / "restart" / "harbour.yml").write_text(RULE_PACK)
    return target


def _produce(bootstrap: str, topic: str, *outlets: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for outlet in outlets:
        item = ARTICLES[outlet]
        producer.send(topic, key=item.id.encode(), value=item.model_dump_json().encode())
    producer.flush()
    producer.close()


class TopicReader:
    """Reads a topic's partitions from the start, keeping every record seen so far."""

    def __init__(self, bootstrap: str, topic: str, partitions: int = PARTITIONS) -> None:
        self.topic = topic
        self.records: list[Any] = []
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        self._consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        self._consumer.seek_to_beginning()

    def poll(self) -> list[Any]:
        for batch in self._consumer.poll(timeout_ms=200).values():
            self.records.extend(batch)
        return self.records

    def wait(self, predicate: Callable[[list[Any]], bool], what: str, timeout: float) -> None:
        wait_for(lambda: predicate(self.poll()), timeout, f"{what} on {self.topic}")

    def close(self) -> None:
        self._consumer.close()


def _state_key(record: Any) -> str:
    raw = record.key.decode()
    return str(json.loads(raw)) if raw.startswith('"') else raw


def _written(suffix: str) -> Callable[[list[Any]], bool]:
    """The changelog holds a live (non-tombstone) entry whose key ends with ``suffix``."""
    return lambda records: any(
        r.value is not None and _state_key(r).endswith(suffix) for r in records
    )


def _decided(outlet: str) -> str:
    """Changelog key suffix written last by a decision on ``outlet``'s article."""
    return f":d:{doc_id(ARTICLES[outlet])}"


def _alerted(outlet: str) -> str:
    """Changelog key suffix of the alert a decision on ``outlet``'s article gave."""
    return f":a:{doc_id(ARTICLES[outlet])}"


def _summary(received: list[Received]) -> list[tuple[str, str, int]]:
    return [
        (r.payload["kind"], r.payload["article"]["id"], r.payload["story_sources"])
        for r in received
    ]


def _restored(worker: WorkerProcess, changelog: str) -> dict[int, int] | None:
    """Once Faust says recovery is complete: the highwater it restored each partition of
    ``changelog`` up to (-1: empty), read from its "Highwater - Active" log table."""
    text = worker.log_path.read_text(errors="replace")
    if "Recovery complete" not in text:
        return None
    table = text.split("Highwater for active changelog partitions", 1)[-1]
    table = table.split("active offsets at start of reading", 1)[0]
    highwaters: dict[int, int] = {}
    topic = None
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            continue
        topic = cells[0] if cells[0] != "〃" else topic
        if topic == changelog and cells[1].isdigit():
            highwaters[int(cells[1])] = int(cells[2])
    return highwaters


def _diagnose(worker: WorkerProcess) -> str:
    """The worker's own counters and log tail, for a failure message."""
    status, body = worker.get("/metrics")
    counters = [
        line for line in body.decode(errors="replace").splitlines()
        if line.startswith("newsalert_") and not line.startswith("newsalert_delivery_latency")
    ]
    return "\n".join([f"/metrics {status}:", *counters, "log:", worker.log_tail()])


def _batch_bytes(broker_kind: str) -> int:
    return producer_batch_bytes(Settings(), embedded=broker_kind == "embedded")


async def test_end_offsets_count_every_record_with_the_worker_batching(
    broker: Any, broker_kind: str
) -> None:
    """Changelog recovery reads up to the end offset the broker lists: it must count every
    record, including those sent in one burst the way a decision writes its keys."""
    topic = unique_names("offsets")["NEWSALERT_ARTICLES_TOPIC"]
    await asyncio.to_thread(ensure_topics, broker.bootstrap, [TopicSpec(name=topic, partitions=1)])
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap, max_batch_size=_batch_bytes(broker_kind),
        linger_ms=20, acks="all",
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value=b"%d" % n) for n in range(25)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([AIOTopicPartition(topic, 0)])
    finally:
        await consumer.stop()
    assert list(ends.values()) == [25]


@pytest.fixture
def store(broker_kind: str) -> str:
    """The table store the workers use: RocksDB (via rocksdict) when it can be imported."""
    try:
        import rocksdict  # noqa: F401
    except ImportError:
        return "memory://"
    return "rocksdb://"


@pytest.mark.parametrize("kill_at", ["halfway", "decided"])
async def test_killed_worker_neither_loses_nor_duplicates_the_threshold_alert(
    broker: Any, broker_kind: str, store: str, tmp_path: Path, kill_at: str
) -> None:
    names = unique_names(f"restart-{kill_at}")
    articles = names["NEWSALERT_ARTICLES_TOPIC"]
    changelog_topic = f"{names['NEWSALERT_APP_ID']}-alert-state-changelog"
    async with WebhookReceiver(SECRET) as hooks:
        env = {
            **names,
            "NEWSALERT_RULES_DIR": str(_rules_dir(tmp_path)),
            "NEWSALERT_STORE": store,
            "NEWSALERT_PARTITIONS": str(PARTITIONS),
            "NEWSALERT_WEBHOOK_URLS": json.dumps([hooks.url]),
            "NEWSALERT_WEBHOOK_SECRET": SECRET,
            "NEWSALERT_DELIVERY_BACKOFF_S": "0.2",
            "NEWSALERT_DELIVERY_BACKOFF_MAX_S": "1",
            # The worker only knows it is on Tansu when it started the broker itself.
            "NEWSALERT_PRODUCER_BATCH_BYTES": str(_batch_bytes(broker_kind)),
        }
        first = WorkerProcess(broker.bootstrap, tmp_path, env)
        second = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(first.start, START_S)
        changelog = await asyncio.to_thread(TopicReader, broker.bootstrap, changelog_topic)
        try:
            if kill_at == "halfway":
                # Two outlets: the threshold is half reached and nothing may alert yet.
                await asyncio.to_thread(_produce, broker.bootstrap, articles, *OUTLETS[:2])
                for outlet in OUTLETS[:2]:
                    await asyncio.to_thread(
                        changelog.wait, _written(_decided(outlet)), f"{outlet} decided", ALERT_S
                    )
            else:
                # The receiver refuses everything, so the alert cannot get out before the kill.
                hooks.fail_first = 10**9
                await asyncio.to_thread(_produce, broker.bootstrap, articles, *OUTLETS[:3])
                await asyncio.to_thread(
                    changelog.wait, _written(_alerted(OUTLETS[2])), "alert decided", ALERT_S
                )
            await asyncio.to_thread(first.kill)
            assert hooks.received == [], _summary(hooks.received)
            hooks.fail_first = 0

            await asyncio.to_thread(second.start, START_S)
            # The mechanism under test: the new worker rebuilds alert-state from its changelog.
            restored = await asyncio.to_thread(
                wait_for, lambda: _restored(second, changelog_topic), START_S, "recovery"
            )
            assert max(restored.values()) >= 0, f"nothing to restore: {restored}"

            if kill_at == "halfway":
                await asyncio.to_thread(_produce, broker.bootstrap, articles, OUTLETS[2])
            try:
                await hooks.wait_for(lambda: len(hooks.received) >= 1, timeout=ALERT_S)
            except TimeoutError:
                raise AssertionError(f"no alert after the restart: {_diagnose(second)}") from None
            await asyncio.to_thread(_produce, broker.bootstrap, articles, OUTLETS[3])
            await hooks.wait_for(lambda: len(hooks.received) >= 2, timeout=ALERT_S)

            # Both alerts share a scope, hence a matches partition and an alerts partition, and
            # one webhook lane delivers in order: a duplicate of the first would precede the
            # second, so two received means none duplicated.
            assert _summary(hooks.received) == [
                ("new", ARTICLES[OUTLETS[2]].id, 3),
                ("update", ARTICLES[OUTLETS[3]].id, 4),
            ], second.log_tail()
            new, update = (r.payload for r in hooks.received)
            assert new["rule_id"] == RULE_ID and new["entity"] == "Velmar"
            assert update["thread_id"] == new["id"]
            assert [r.webhook_id for r in hooks.received] == [new["id"], update["id"]]
            assert not hooks.rejected

            # Every copy of an alert on the alerts topic (the killed worker's, the re-emitted
            # one) is the same alert: same id, same content.
            alerts = await asyncio.to_thread(
                TopicReader, broker.bootstrap, names["NEWSALERT_ALERTS_TOPIC"]
            )
            try:
                await asyncio.to_thread(
                    alerts.wait, lambda rs: len(rs) >= 2, "both alerts", ALERT_S
                )
                by_id: dict[str, set[bytes]] = {}
                for record in alerts.records:
                    by_id.setdefault(json.loads(record.value)["id"], set()).add(record.value)
                assert set(by_id) == {new["id"], update["id"]}
                assert all(len(copies) == 1 for copies in by_id.values())
            finally:
                alerts.close()
        finally:
            changelog.close()
            first.kill()
            status = await asyncio.to_thread(second.stop)
        assert status == 0, second.log_tail()
