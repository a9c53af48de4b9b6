"""The broker goes away mid-stream and comes back: the worker reconnects on its own, and every
article is alerted on exactly once.

Apache Kafka only. This test runs its own broker with a fixed data directory and fixed ports,
so ``stop()`` then ``start()`` brings back the same broker with its topics, committed offsets
and table changelogs. The embedded broker keeps everything in memory: a restarted embedded
broker is a new, empty broker (see the README's broker differences), so there is nothing to
resume from and the test does not apply to it.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stream.broker import free_port
from tests.support.alerting import alerting_articles, encode
from tests.support.kafka import produce
from tests.support.scrape import parse
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import WorkerProcess, unique_names

SECRET = "whsec_" + "cmVzdGFydC1zZWNyZXQtZm9yLXRlc3RzLW9ubHkx"
BATCH = 16
# What the worker logs (stream/lag.py) while it cannot reach the broker.
UNREACHABLE = "consumer lag not sampled"


def _consumed(worker: WorkerProcess) -> float:
    status, body = worker.get("/metrics")
    if status != 200:
        return -1.0
    return parse(body.decode()).value("newsalert_articles_consumed_total") or 0.0


class LogWatch:
    """Find a phrase in a growing log, reading only what was added since the last look.

    While the broker is away the client libraries log thousands of lines a second, so a
    fixed-size tail would miss the worker's own line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def saw(self, phrase: str) -> bool:
        if not self.path.exists():
            return False
        with self.path.open("rb") as log:
            log.seek(max(0, self.offset - len(phrase)))
            chunk = log.read()
            self.offset = log.tell()
        return phrase.encode() in chunk


async def _wait(predicate: Any, timeout: float, what: str) -> Any:
    return await asyncio.to_thread(wait_for, predicate, timeout, what)


async def test_worker_rides_out_a_broker_restart(broker_kind: str, tmp_path: Path) -> None:
    if broker_kind != "apache":
        pytest.skip(
            "the embedded broker stores everything in memory: after a restart it is empty, so "
            "there is nothing to resume (run with NEWSALERT_TEST_BROKER=apache)"
        )
    from stream.broker.apache import ApacheKafka

    # Fixed data directory and ports: the restarted broker is the same broker.
    kafka = ApacheKafka(workdir=tmp_path / "kafka", port=free_port(),
                        controller_port=free_port())
    kafka.start()
    names = unique_names("restart")
    topic = names["NEWSALERT_ARTICLES_TOPIC"]
    tag = names["NEWSALERT_APP_ID"]
    try:
        async with WebhookReceiver(SECRET) as hooks:
            env = {
                **names,
                "NEWSALERT_PARTITIONS": "4",
                "NEWSALERT_WEBHOOK_URLS": json.dumps([hooks.url]),
                "NEWSALERT_WEBHOOK_SECRET": SECRET,
                "NEWSALERT_CONSOLE_ALERTS": "false",
                "NEWSALERT_LOG_FORMAT": "json",
            }
            worker = WorkerProcess(kafka.bootstrap, tmp_path, env)
            await asyncio.to_thread(worker.start)
            try:
                batch1 = alerting_articles(BATCH, tag)
                await asyncio.to_thread(produce, kafka.bootstrap, topic,
                                        [encode(a) for a in batch1])
                await hooks.wait_for(lambda: len(set(hooks.ids())) >= BATCH, timeout=90)

                # Stop the broker while the worker is in the middle of the next batch.
                batch2 = alerting_articles(BATCH, tag, start=BATCH)
                await asyncio.to_thread(produce, kafka.bootstrap, topic,
                                        [encode(a) for a in batch2])
                await _wait(lambda: _consumed(worker) > BATCH, 60, "the second batch to start")
                watch = LogWatch(worker.log_path)
                watch.saw("")  # from here on
                await asyncio.to_thread(kafka.stop)
                await _wait(lambda: watch.saw(UNREACHABLE), 60,
                            "the worker to notice the broker is gone")
                assert worker.get("/healthz")[0] == 200, "the worker keeps running meanwhile"

                await asyncio.to_thread(kafka.start)
                batch3 = alerting_articles(BATCH, tag, start=2 * BATCH)
                await asyncio.to_thread(produce, kafka.bootstrap, topic,
                                        [encode(a) for a in batch3])
                try:
                    await hooks.wait_for(
                        lambda: len(set(hooks.ids())) >= 3 * BATCH, timeout=180
                    )
                except TimeoutError:
                    raise AssertionError(
                        f"received {len(set(hooks.ids()))} of {3 * BATCH} alerts after the "
                        f"restart\n{worker.log_tail(40)}"
                    ) from None

                expected = {a.id for a in batch1 + batch2 + batch3}
                assert {r.payload["article"]["id"] for r in hooks.received} == expected
                per_id = Counter(hooks.ids())
                assert all(n == 1 for n in per_id.values()), {
                    k: n for k, n in per_id.items() if n > 1
                }
            finally:
                assert await asyncio.to_thread(worker.stop) == 0, worker.log_tail()
    finally:
        kafka.close()
