"""An alert stuck at a destination holds back the committed offset of the alerts after it.

Deliveries finish out of order (each destination has its own lane), but the group's committed
offset must never pass an alert that is still being delivered: a worker that dies then would
leave that alert to nobody. Here an alert for a stalled webhook is followed by alerts for a
healthy webhook, which are delivered; the worker commits, and the committed offset of the
alerts partition still points at the stalled alert. A worker started after a SIGKILL delivers
it. The stalled alert comes either after one the worker committed, or as the partition's very
first record, where the group has no committed offset at all: the successor then fetches it
during its table recovery, drops it with everything else Faust fetched while its flow was
stopped, and must seek back to the partition's beginning to read it again
(``stream/transport.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition

from stream.models import alert_id
from tests.integration.test_delivery_worker import RULE, SECRET, _article, _env, _rules
from tests.support.kafka import produce
from tests.support.waiting import wait_for, wait_for_async
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import WorkerProcess, unique_names

SUBSCRIPTIONS = """\
version: 1
destinations:
  stalled:
    type: webhook
    url: {stalled}
    secret_env: ORDER_TEST_SECRET
    allow_private: true
  healthy:
    type: webhook
    url: {healthy}
    secret_env: ORDER_TEST_SECRET
    allow_private: true
routes:
  - name: closures
    rules: [harbour-closed]
    to: [stalled]
  - name: reopenings
    rules: [harbour-reopened]
    to: [healthy]
"""

REOPENED = {
    "Port Alder": "Port Alder reopened to shipping on Friday once the quay was cleared.",
    "Port Birch": "Port Birch reopened at dawn after the divers finished their search.",
}


def _committed(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        offsets = admin.list_group_offsets({group: [tp]}).get(group, {})
    finally:
        admin.close()
    found = offsets.get(tp)
    return None if found is None or found.offset < 0 else int(found.offset)


@pytest.mark.parametrize("stalled_first", [False, True], ids=["after-a-commit", "first-record"])
async def test_commit_never_passes_an_alert_still_in_delivery(
    broker: Any, tmp_path: Path, stalled_first: bool
) -> None:
    names = unique_names("dlv-order")
    group = names["NEWSALERT_APP_ID"]
    articles = names["NEWSALERT_ARTICLES_TOPIC"]
    stuck_id = alert_id(RULE, "Port Alder", "alder-1")
    async with WebhookReceiver(SECRET) as stalled, WebhookReceiver(SECRET) as healthy:
        hold = stalled.hold = asyncio.Event()
        try:
            subscriptions = tmp_path / "subscriptions.yml"
            subscriptions.write_text(
                SUBSCRIPTIONS.format(stalled=stalled.url, healthy=healthy.url), encoding="utf-8"
            )
            env = _env(
                names, _rules(tmp_path),
                NEWSALERT_PARTITIONS="1",  # every alert on one partition: offsets 0, 1, 2
                NEWSALERT_SUBSCRIPTIONS_FILE=str(subscriptions),
                ORDER_TEST_SECRET=SECRET,
            )
            doomed = WorkerProcess(broker.bootstrap, tmp_path, env)
            await asyncio.to_thread(doomed.start)
            try:
                reopenings = [
                    (b"reopen", _article(f"reopen-{n}", entity, "wire", REOPENED[entity]))
                    for n, entity in enumerate(REOPENED, 1)
                ]
                before, after = ([], reopenings) if stalled_first else (reopenings[:1],
                                                                        reopenings[1:])
                held = None if stalled_first else 1  # the stalled alert's offset, committed
                alerts = TopicPartition(names["NEWSALERT_ALERTS_TOPIC"], 0)
                if before:
                    # The alert at offset 0 is delivered and committed.
                    await asyncio.to_thread(produce, broker.bootstrap, articles, before)
                    await healthy.wait_for(lambda: len(healthy.received) == 1, 120)
                    await asyncio.to_thread(
                        wait_for, lambda: _committed(broker.bootstrap, group, alerts) == 1,
                        60, "the worker to commit the first alert",
                    )
                # The next alert hangs at its webhook.
                await asyncio.to_thread(produce, broker.bootstrap, articles,
                                        [(b"alder", _article("alder-1", "Port Alder", "wire"))])
                await wait_for_async(lambda: stalled.attempts >= 1, 60, "the stalled request")
                # The alerts after it are delivered to the healthy webhook.
                await asyncio.to_thread(produce, broker.bootstrap, articles, after)
                await healthy.wait_for(lambda: len(healthy.received) == 2, 120)

                # The last match's offset committed means the worker committed after the
                # healthy deliveries finished; the alerts partition must still wait.
                matches = TopicPartition(names["NEWSALERT_MATCHES_TOPIC"], 0)
                await asyncio.to_thread(
                    wait_for, lambda: (_committed(broker.bootstrap, group, matches) or 0) >= 3,
                    60, "the worker to commit all three matches",
                )
                assert _committed(broker.bootstrap, group, alerts) == held
                assert stuck_id not in stalled.ids()
            finally:
                doomed.kill()
            assert _committed(broker.bootstrap, group, alerts) == held, "commit at the kill"

            stalled.hold = None  # the endpoint recovers; the dead worker's request stays stuck
            successor = WorkerProcess(broker.bootstrap, tmp_path, env)
            await asyncio.to_thread(successor.start, 180.0)
            try:
                try:
                    await stalled.wait_for(lambda: stuck_id in stalled.ids(), timeout=180)
                except TimeoutError:
                    raise AssertionError(f"{stuck_id} never redelivered\n"
                                         f"{successor.log_tail(80)}") from None
                assert stalled.ids() == [stuck_id]
                if stalled_first:
                    # the successor's recovery sought the partition back itself
                    seek = f"{alerts.topic}-0 has no committed offset: reading again from offset"
                    assert seek in successor.log_tail(2000), successor.log_tail()
            finally:
                assert await asyncio.to_thread(successor.stop) == 0, successor.log_tail()
        finally:
            hold.set()  # let the orphaned request end, so the server stops promptly

    expected = {alert_id("harbour-reopened", e, f"reopen-{n}") for n, e in enumerate(REOPENED, 1)}
    # Alerts the successor read again are found in the delivery ledger, or repeated with the
    # same webhook-id for the receiver to drop; never lost.
    assert set(healthy.ids()) == expected
    assert all(healthy.ids().count(i) <= 2 for i in expected)
    assert not stalled.rejected and not healthy.rejected
