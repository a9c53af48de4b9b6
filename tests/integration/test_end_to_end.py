"""The walking skeleton on real parts: articles in Kafka → real worker → rules → Slack and
signed webhooks, with malformed input dead-lettered and the stream going on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from stream.models import Article
from tests.support.kafka import produce
from tests.support.slack_server import SlackServer
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import REPO, WorkerProcess, unique_names

SEED = REPO.parent / "shared" / "seeds" / "kremlin-regrets-armenia-absence.json"
SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4OTA="
TOKEN = "xoxb-test-token"


def _samples() -> dict[str, bytes]:
    lines = (REPO / "examples" / "articles.jsonl").read_bytes().splitlines()
    return {Article.model_validate_json(line).id: line for line in lines if line.strip()}


def _dead_letters(bootstrap: str, topic: str, want: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    got: list[Any] = []

    def enough() -> bool:
        for records in consumer.poll(timeout_ms=200).values():
            got.extend(records)
        return len(got) >= want

    try:
        wait_for(enough, 60, f"{want} dead letters on {topic}")
    finally:
        consumer.close()
    return got


@pytest.fixture
def seed_article() -> bytes:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_bytes()


@pytest.mark.parametrize("which", ["sample", "seed"])
async def test_articles_become_slack_and_webhook_alerts(
    broker: Any, tmp_path: Path, which: str, request: pytest.FixtureRequest
) -> None:
    """Each article gets a fresh worker: both alert for the same (rule, Armenia), and dedup
    would rightly keep the second one quiet within the window."""
    names = unique_names("e2e")
    samples = _samples()
    if which == "seed":
        seed_article: bytes = request.getfixturevalue("seed_article")
        target = json.loads(seed_article)["id"]
        articles_in = [(target.encode(), seed_article)]
    else:
        target = "sample-armenia-csto-skip"
        articles_in = [(key.encode(), value) for key, value in samples.items()]
    async with SlackServer(token=TOKEN, channels={"alerts": "C0ALERTS"}) as slack, \
            WebhookReceiver(SECRET) as hooks:
        env = {
            **names,
            "NEWSALERT_SLACK_TOKEN": TOKEN,
            "NEWSALERT_SLACK_API_URL": slack.base_url,
            "NEWSALERT_SLACK_CHANNELS": '["alerts"]',
            "NEWSALERT_SLACK_MIN_INTERVAL_S": "0",
            "NEWSALERT_WEBHOOK_URLS": json.dumps([hooks.url]),
            "NEWSALERT_WEBHOOK_SECRET": SECRET,
        }
        worker = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(worker.start)
        try:
            articles = names["NEWSALERT_ARTICLES_TOPIC"]
            records: list[tuple[bytes | None, bytes]] = [
                (b"broken", b'{"id": "broken-1", "title": '),  # malformed first
                (b"no-body", b'{"id": "no-body", "title": "A title"}'),
                *articles_in,
            ]
            await asyncio.to_thread(produce, broker.bootstrap, articles, records)

            # The summit rule alerts on one report; departure risk waits for a second outlet
            # (threshold: 2 sources), which the samples provide and the seed alone does not.
            expected = (
                {"csto-member-skips-summit", "csto-member-departure-risk"}
                if which == "sample" else {"csto-member-skips-summit"}
            )
            try:
                await hooks.wait_for(lambda: len(hooks.received) >= len(expected), timeout=90)
            except TimeoutError:
                raise AssertionError(
                    f"webhooks: {hooks.attempts} attempts, received {hooks.ids()}, "
                    f"rejected {hooks.rejected}\n{worker.log_tail(30)}"
                ) from None
            payloads = [r.payload for r in hooks.received]
            assert {p["rule_id"] for p in payloads} == expected
            assert {p["entity"] for p in payloads} == {"Armenia"}
            assert all(p["evidence"] for p in payloads), "alerts carry why they fired"
            summit = next(p for p in payloads if p["rule_id"] == "csto-member-skips-summit")
            assert summit["article"]["id"] == target
            # the webhook id is the alert id, so receivers can deduplicate
            assert all(r.webhook_id == r.payload["id"] for r in hooks.received)

            await slack.wait_for(
                lambda: len(slack.in_channel("C0ALERTS")) >= len(expected), timeout=60
            )
            posted = slack.in_channel("C0ALERTS")
            assert all(m.blocks for m in posted)
            assert any("Armenia" in json.dumps(m.blocks) for m in posted)
            assert not slack.refused, slack.refused

            letters = await asyncio.to_thread(
                _dead_letters, broker.bootstrap, f"{articles}.dlq", 2
            )
            by_key = {r.key: r for r in letters}
            assert by_key[b"broken"].value == b'{"id": "broken-1", "title": '
            headers = dict(by_key[b"broken"].headers)
            assert b"invalid JSON" in headers["newsalert-error"]
            assert b"body: Field required" in dict(by_key[b"no-body"].headers)["newsalert-error"]

            alerted = {r.payload["article"]["id"] for r in hooks.received}
            assert alerted <= {target, "sample-armenia-csto-exit-talk"}, alerted
            assert len(hooks.received) == len(expected), "one webhook per alert, no duplicates"
        finally:
            assert await asyncio.to_thread(worker.stop) == 0, worker.log_tail()
