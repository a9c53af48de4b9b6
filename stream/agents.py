"""The worker's loops: thin code that calls the pure parts and moves records between topics.

articles ──ingest──► matches (keyed by scope) ──decide──► alerts (keyed by thread) ──deliver──►
sinks. Keying each hop lets a table partition hold all the state one decision needs, so N
workers can share the work and a restarted worker recovers exactly its partitions' state.
Ingest reads articles in batches through ``stream.intake`` (a plain consumer group, since it
keeps no state); decide and deliver are Faust agents over Faust tables.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.partitioner import DefaultPartitioner

from stream import heap
from stream.acks import InOrderAcks
from stream.delivery import (
    DeadLetter,
    Dispatcher,
    DispatchReport,
    RetryPolicy,
    build_router,
    build_sinks,
)
from stream.delivery.reload import watch_subscriptions
from stream.dlq import redrive_destination, submit_redrive
from stream.errors import ArticleError
from stream.ingest import ParsedBatch, evaluate_parsed, parse_fields
from stream.intake import Intake, IntakeTuning, ingest_group
from stream.lag import LagSampler
from stream.latency import article_timestamp, observe_delivery, stamp
from stream.ledger_upkeep import LedgerUpkeep, PartitionTagged
from stream.metrics import METRICS
from stream.models import Alert, MatchRecord
from stream.rules_live import LiveRules
from stream.runtime import Runtime
from stream.settings import Settings
from stream.state import AlertState, scope_key
from stream.topicmap import TopicMap, follow
from stream.topics import LEDGER_TABLE, STATE_TABLE, Topics

__all__ = ["install"]

log = logging.getLogger("newsalert")

_SWEEP_EVERY_S = 60.0
_LAG_EVERY_S = 5.0
_FAULT_PAUSE_S = 0.5
_FAULT_PAUSE_MAX_S = 30.0


def install(
    app: Any, topics: Topics, settings: Settings, bootstrap: str, tuning: IntakeTuning
) -> Runtime:
    """Attach the intake, tables, agents, timers and web pages to ``app``; return the runtime."""
    rules = LiveRules([settings.rules_dir])  # raises RuleError: never start on broken rules
    METRICS.rules_loaded.set(len(rules.ruleset.rules))
    slash_store = TopicMap(
        lambda key, value: topics.subscriptions.send_soon(key=key, value=value)
    )
    router = build_router(settings, settings.subscriptions_file, dynamic=slash_store)
    sinks = build_sinks(settings, router.subscriptions)
    runtime = Runtime(settings, rules, router, sinks, slash_store=slash_store)

    state_table = app.Table(STATE_TABLE, default=None, partitions=settings.partitions)
    ledger_table = app.Table(LEDGER_TABLE, default=None, partitions=settings.partitions)
    state = AlertState(state_table)

    async def dead_letter(letter: DeadLetter) -> None:
        await topics.alerts_dlq.send(
            key=letter.alert.id.encode(), value=letter.model_dump_json().encode()
        )

    # Outcomes are stamped with the partition they are written in, so the deliver agent can
    # prune each partition's entries while processing that partition (see ledger_upkeep).
    upkeep = LedgerUpkeep(ledger_table)
    ledger = PartitionTagged(ledger_table, _event_partition)
    runtime.dispatcher = dispatcher = Dispatcher(
        sinks, router, ledger, dead_letter, RetryPolicy.from_settings(settings)
    )

    async def ingest(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[Awaitable[Any]]:
        # Articles from one fetch; the intake commits them once every send is acknowledged.
        METRICS.articles_consumed.inc(len(records))
        ruleset = rules.ruleset
        sent: list[Awaitable[Any]] = []
        kept: list[ConsumerRecord[bytes, bytes]] = []
        fields: list[dict[str, Any]] = []
        for record in records:
            try:
                fields.append(parse_fields(record.value))
            except ArticleError as exc:
                METRICS.articles_invalid.inc()
                sent.append(await _dead_letter_article(topics, record, str(exc)))
                continue
            kept.append(record)
        batch = ParsedBatch(fields)  # an Article is built only for articles that match
        results = evaluate_parsed(ruleset, batch)
        for index, (record, matches) in enumerate(zip(kept, results, strict=True)):
            if isinstance(matches, Exception):  # an engine fault must not stall the partition
                log.error("rule evaluation failed on %s/%s/%s", record.topic, record.partition,
                          record.offset, exc_info=matches)
                sent.append(await _dead_letter_article(topics, record,
                                                       f"rule evaluation failed: {matches!r}"))
                continue
            if not matches:
                continue
            article = batch.article(index)
            matched_at = datetime.now(UTC)
            for match in matches:
                METRICS.rule_matches.labels(rule=match.rule_id).inc()
                runtime.matches.record(match.rule_id, matched_at)
                value = MatchRecord(match=match, article=article).model_dump_json().encode()
                sent.append(await topics.matches.send(
                    key=scope_key(match.rule_id, match.entity).encode(),
                    value=value,
                    headers=stamp(record.timestamp / 1000 if record.timestamp else None),
                ))
        return sent

    intake = runtime.intake = Intake(
        bootstrap,
        settings.articles_topic,
        ingest_group(settings.app_id),
        ingest,
        tuning,
        on_assigned=lambda owned: (
            runtime.articles_assigned.set() if owned else runtime.articles_assigned.clear()
        ),
    )

    partitioner = DefaultPartitioner()
    n_partitions = list(range(settings.partitions))
    last_sweep: dict[int, float] = {}

    def owned_by(partition: int) -> Any:
        def accept(scope: str) -> bool:
            owner: int = partitioner(scope.encode(), n_partitions, n_partitions)
            return owner == partition
        return accept

    @app.agent(topics.matches, name="decide")
    async def decide(stream: Any) -> None:
        async for event in stream.events():
            record = MatchRecord.model_validate_json(event.value)
            now = datetime.now(UTC)
            for alert in state.decide(record.match, record.article, now):
                METRICS.alerts.labels(severity=alert.severity).inc()
                log.info("alert %s %s %s entity=%s article=%s", alert.id, alert.kind,
                         alert.rule_id, alert.entity, alert.article.id,
                         extra={"alert_id": alert.id, "rule_id": alert.rule_id,
                                "kind": alert.kind, "severity": alert.severity,
                                "entity": alert.entity, "article_id": alert.article.id})
                await topics.alerts.send(
                    key=(alert.thread_id or alert.id).encode(),
                    value=alert.model_dump_json().encode(),
                    headers=stamp(article_timestamp(event.headers)),
                )
            # Expire old state of this event's partition only: each deletion must reach the
            # changelog partition that holds the key.
            partition = event.message.partition
            if time.monotonic() - last_sweep.get(partition, 0.0) > _SWEEP_EVERY_S:
                last_sweep[partition] = time.monotonic()
                state.sweep(now, scopes=owned_by(partition))

    stop = asyncio.Event()
    acks = InOrderAcks()
    restarts: set[asyncio.Task[None]] = set()

    @app.agent(topics.alerts, name="deliver")
    async def deliver(stream: Any) -> None:
        # Delivery runs beside the stream: a slow destination delays only its own lane. An
        # alert's offset is acknowledged once every destination has it (or dead-lettered it)
        # and every earlier alert of its partition is acknowledged too (stream/acks.py).
        async for event in stream.noack().events():
            alert = Alert.model_validate_json(event.value)
            target = redrive_destination(event.headers)  # set by `newsalert dlq redrive`
            if target is None:
                runtime.recent.add(alert)
            done = acks.track(event.message.tp, event)
            task = await start(alert, target)
            task.add_done_callback(functools.partial(
                delivered, event=event, alert=alert, target=target, done=done, faults=0
            ))
            upkeep.maybe_prune(
                event.message.partition, wall=time.time(), monotonic=time.monotonic()
            )

    async def start(alert: Alert, target: str | None) -> asyncio.Task[DispatchReport]:
        if target is None:
            return await dispatcher.submit(alert)
        return submit_redrive(dispatcher, alert, target)

    def delivered(
        task: asyncio.Task[DispatchReport], *, event: Any, alert: Alert, target: str | None,
        done: Callable[[], None], faults: int,
    ) -> None:
        if task.cancelled():
            return  # shutting down: left unacknowledged, so it is read again
        if (exc := task.exception()) is not None:
            # A fault inside the worker (not a destination's refusal, which is dead-lettered
            # by the dispatcher): the alert stays unacknowledged and is started again.
            METRICS.delivery_faults.inc()
            log.error("delivery of %s failed inside the worker (%d time(s)); starting it "
                      "again: %r", alert.id, faults + 1, exc, exc_info=exc,
                      extra={"alert_id": alert.id, "rule_id": alert.rule_id})
            again = asyncio.ensure_future(restart(event, alert, target, done, faults + 1))
            restarts.add(again)
            again.add_done_callback(restarts.discard)
            return
        done()
        report = task.result()
        observe_delivery(METRICS, alert.created_at, article_timestamp(event.headers),
                         report.by_status("delivered"), time.time())
        for outcome in report.outcomes:
            METRICS.deliveries.labels(destination=outcome.destination,
                                      outcome=outcome.status).inc()
            runtime.recent.delivered(report.alert_id, outcome.destination, outcome.status)
            log.info("delivery %s -> %s: %s after %d attempt(s)", report.alert_id,
                     outcome.destination, outcome.status, outcome.attempts,
                     extra={"alert_id": report.alert_id, "rule_id": alert.rule_id,
                            "destination": outcome.destination, "outcome": outcome.status,
                            "attempts": outcome.attempts})

    async def restart(
        event: Any, alert: Alert, target: str | None, done: Callable[[], None], faults: int
    ) -> None:
        # Runs in the context captured with the event, so table writes still go to the
        # event's partition.
        await asyncio.sleep(min(_FAULT_PAUSE_MAX_S, _FAULT_PAUSE_S * 2 ** (faults - 1)))
        if stop.is_set() or event.message.tp not in app.consumer.assignment():
            log.warning("alert %s left to its partition's next owner", alert.id,
                        extra={"alert_id": alert.id})
            return
        task = await start(alert, target)
        task.add_done_callback(functools.partial(
            delivered, event=event, alert=alert, target=target, done=done, faults=faults
        ))

    async def on_rules(ruleset: Any, problems: Any) -> None:
        METRICS.rules_loaded.set(len(ruleset.rules))
        if problems:
            METRICS.rule_reload_errors.inc()

    @app.task
    async def watch_rules() -> None:
        await rules.watch(on_rules, stop_event=stop, ready=runtime.rules_watched)

    @app.task
    async def follow_subscriptions() -> None:
        await follow(bootstrap, settings.subscriptions_topic, slash_store, stop)

    if settings.subscriptions_file is not None:
        subscriptions_file = settings.subscriptions_file

        @app.task
        async def watch_subscriptions_file() -> None:
            await watch_subscriptions(subscriptions_file, settings, router, sinks)

    # Lag of each group on the partitions this worker owns: Faust's on matches and alerts,
    # the intake's on articles.
    samplers = [
        LagSampler(bootstrap, settings.app_id, {settings.matches_topic, settings.alerts_topic},
                   METRICS.consumer_lag, assigned=lambda: app.consumer.assignment()),
        LagSampler(bootstrap, ingest_group(settings.app_id), {settings.articles_topic},
                   METRICS.consumer_lag, assigned=intake.assignment),
    ]

    @app.task
    async def sample_lag() -> None:
        await asyncio.gather(*(sampler.run(_LAG_EVERY_S, stop) for sampler in samplers))

    @app.task
    async def settle_heap() -> None:
        # Start-up is over: its objects live as long as the worker, so the collector's full
        # passes need not walk them again (stream/heap.py).
        await heap.keep_settled(stop)

    @app.task
    async def read_articles() -> None:
        await intake.run(stop)

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: Any, revoked: Any, **_: Any) -> None:
        for tp in revoked:
            acks.forget(tp)  # what is unfinished there is read again by the next owner

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, assigned: Any, **_: Any) -> None:
        runtime.partitions_assigned = True

    @app.on_before_shutdown.connect
    def on_shutdown(sender: Any, **_: Any) -> None:
        stop.set()

    return runtime


async def _dead_letter_article(
    topics: Topics, record: ConsumerRecord[bytes, bytes], reason: str
) -> Awaitable[Any]:
    """Send an article that cannot be handled to the dead-letter topic with the reason."""
    where = f"{record.topic}/{record.partition}/{record.offset}"
    log.warning("dead-lettering %s: %s", where, reason,
                extra={"topic": record.topic, "partition": record.partition,
                       "offset": record.offset})
    sent: Awaitable[Any] = await topics.articles_dlq.send(
        key=record.key,
        value=record.value or b"",
        headers={"newsalert-error": reason.encode(), "newsalert-source": where.encode()},
    )
    return sent


def _event_partition() -> int | None:
    """Partition of the event being processed: where a table write goes."""
    from faust.streams import current_event

    event = current_event()
    return None if event is None else int(event.message.partition)
