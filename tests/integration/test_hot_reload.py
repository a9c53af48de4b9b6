"""Hot reload on a real worker: a broken edit is rejected with file:line and the old rules stay
live; a valid edit is live without a restart, and the next alert names the new rule version."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from tests.support.waiting import wait_for
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.worker import REPO, WorkerProcess, unique_names

DESK_RULE = """\
lists:
  desk_parties:
    Ruritania: [Ruritanian]
    Freedonia: [Freedonian]
rules:
  - id: desk-ceasefire
    name: A ceasefire is announced
    severity: {severity}
    entity: $desk_parties
    when:
      all:
        - any: [ceasefire, truce]
        - any: [announc*, agree*]
"""

BROKEN = """\
rules:
  - id: desk-ceasefire
    name: A ceasefire is announced
    severity: high
    whenn:
      any: [ceasefire]
"""


def _article(ident: str, party: str) -> bytes:
    # One party per article: each alert has its own (rule, entity) scope, so dedup of the
    # first never hides the second.
    return json.dumps({
        "id": ident, "title": f"{party} agrees a ceasefire",
        "body": f"{party} announced a truce with its neighbour on Monday.",
        "source": f"Wire {ident}",
    }).encode()


def _produce(bootstrap: str, topic: str, ident: str, party: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, key=ident.encode(), value=_article(ident, party))
    producer.flush()
    producer.close()


async def test_edits_go_live_and_broken_edits_keep_the_old_rules(
    broker: Any, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    desk = rules / "desk.yml"
    desk.write_text(DESK_RULE.format(severity="low"))
    names = unique_names("reload")
    topic = names["NEWSALERT_ARTICLES_TOPIC"]
    async with WebhookReceiver(None) as hooks:
        env = {
            **names,
            "NEWSALERT_RULES_DIR": str(rules),
            "NEWSALERT_WEBHOOK_URLS": json.dumps([hooks.url]),
            "NEWSALERT_CONSOLE_ALERTS": "false",
        }
        worker = WorkerProcess(broker.bootstrap, tmp_path, env)
        await asyncio.to_thread(worker.start)
        try:
            def readyz() -> dict[str, Any]:
                return dict(json.loads(worker.get("/readyz")[1]))

            first_version = readyz()["rules_version"]

            # A broken edit: rejected with file:line, the previous rules stay live.
            desk.write_text(BROKEN)
            problems = await asyncio.to_thread(
                wait_for, lambda: readyz()["rule_errors"], 30, "the rejected edit"
            )
            assert any(p.startswith(f"{desk}:5:") and "whenn" in p for p in problems), problems
            assert readyz()["rules_version"] == first_version

            await asyncio.to_thread(_produce, broker.bootstrap, topic, "a1", "Ruritania")
            await hooks.wait_for(lambda: len(hooks.received) >= 1, timeout=60)
            old = hooks.received[0].payload
            assert (old["rule_id"], old["entity"], old["severity"]) == (
                "desk-ceasefire", "Ruritania", "low")

            # A valid edit: live without a restart, named by the alerts it gives.
            desk.write_text(DESK_RULE.format(severity="critical"))
            await asyncio.to_thread(
                wait_for,
                lambda: readyz()["rules_version"] != first_version and not readyz()["rule_errors"],
                30, "the valid edit to go live",
            )
            await asyncio.to_thread(_produce, broker.bootstrap, topic, "a2", "Freedonia")
            await hooks.wait_for(lambda: len(hooks.received) >= 2, timeout=60)
            new = hooks.received[1].payload
            assert (new["rule_id"], new["entity"], new["severity"]) == (
                "desk-ceasefire", "Freedonia", "critical")
            assert new["rule_version"] != old["rule_version"]
        finally:
            assert await asyncio.to_thread(worker.stop) == 0, worker.log_tail()
