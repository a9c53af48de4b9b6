"""The Faust agents: thin loops that call the pure parts and move records between topics.

articles ──ingest──► matches (keyed rule|entity) ──decide──► alerts (keyed thread) ──deliver──►
sinks. Keying each hop lets a table partition hold all the state one decision needs, so N
workers can share the work and a restarted worker recovers exactly its partitions' state.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from stream.delivery import DeadLetter, Dispatcher, RetryPolicy, build_router, build_sinks
from stream.errors import ArticleError
from stream.ingest import parse_article
from stream.metrics import METRICS
from stream.models import Alert, MatchRecord
from stream.rules_live import LiveRules
from stream.settings import Settings
from stream.state import AlertState
from stream.topics import Topics

__all__ = ["install"]

log = logging.getLogger("newsalert")

_SWEEP_EVERY_S = 60.0


def install(app: Any, topics: Topics, settings: Settings) -> None:
    """Attach tables, agents, timers and web pages to ``app``."""
    rules = LiveRules([settings.rules_dir])
    state_table = app.Table("alert-state", default=None, partitions=settings.partitions)
    ledger_table = app.Table("delivery-ledger", default=None, partitions=settings.partitions)
    state = AlertState(state_table)
    router = build_router(settings, settings.subscriptions_file)
    sinks = build_sinks(settings, router.subscriptions)

    async def dead_letter(letter: DeadLetter) -> None:
        await topics.alerts_dlq.send(
            key=letter.alert.id.encode(), value=letter.model_dump_json().encode()
        )

    dispatcher = Dispatcher(
        sinks, router, ledger_table, dead_letter, RetryPolicy.from_settings(settings)
    )
    ready = {"assigned": False}

    @app.agent(topics.articles, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            METRICS.articles_consumed.inc()
            msg = event.message
            try:
                article = parse_article(event.value)
            except ArticleError as exc:
                METRICS.articles_invalid.inc()
                log.warning("dead-lettering offset %s/%s: %s", msg.partition, msg.offset, exc)
                await topics.articles_dlq.send(
                    key=msg.key,
                    value=event.value or b"",
                    headers={
                        "newsalert-error": str(exc).encode(),
                        "newsalert-source": f"{msg.topic}/{msg.partition}/{msg.offset}".encode(),
                    },
                )
                continue
            for match in rules.current.evaluate(article):
                METRICS.rule_matches.labels(rule=match.rule_id).inc()
                record = MatchRecord(match=match, article=article)
                await topics.matches.send(
                    key=f"{match.rule_id}|{match.entity or ''}".encode(),
                    value=record.model_dump_json().encode(),
                )

    last_sweep = {"at": time.monotonic()}

    @app.agent(topics.matches, name="decide")
    async def decide(stream: Any) -> None:
        async for event in stream.events():
            record = MatchRecord.model_validate_json(event.value)
            now = datetime.now(UTC)
            for alert in state.decide(record.match, record.article, now):
                METRICS.alerts.labels(severity=alert.severity).inc()
                log.info("alert %s %s entity=%s article=%s", alert.id, alert.rule_id,
                         alert.entity, alert.article.id)
                await topics.alerts.send(
                    key=(alert.thread_id or alert.id).encode(),
                    value=alert.model_dump_json().encode(),
                )
            if time.monotonic() - last_sweep["at"] > _SWEEP_EVERY_S:
                last_sweep["at"] = time.monotonic()
                state.sweep(now)

    @app.agent(topics.alerts, name="deliver")
    async def deliver(stream: Any) -> None:
        # Delivery runs beside the stream: a slow destination delays only its own lane, and an
        # alert's offset is acknowledged once every destination has it (or dead-lettered it).
        async for event in stream.noack().events():
            alert = Alert.model_validate_json(event.value)
            task = await dispatcher.submit(alert)
            task.add_done_callback(lambda _t, e=event: e.ack())

    @app.task
    async def watch_rules() -> None:
        await rules.watch()

    @app.on_partitions_assigned.connect  # type: ignore[misc]
    async def on_assigned(sender: Any, assigned: Any, **_: Any) -> None:
        ready["assigned"] = True

    @app.page("/healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: Any, request: Any) -> Any:
        ok = ready["assigned"] and rules.loaded
        body = {"ready": ok, "partitions_assigned": ready["assigned"],
                "rules_loaded": rules.loaded, "rules_version": rules.version}
        return self.json(body, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(self: Any, request: Any) -> Any:
        return self.bytes(METRICS.exposition(), content_type="text/plain; version=0.0.4")

    app.newsalert_rules = rules
    app.newsalert_dispatcher = dispatcher
