"""Build the Faust app from settings. Wiring only: every decision lives in the pure packages."""

from __future__ import annotations

from typing import Any

import faust

from stream.settings import Settings

__all__ = ["create_app", "fetch_max_wait_ms", "producer_batch_bytes", "rebalance_timeout"]


def rebalance_timeout(settings: Settings, *, embedded: bool) -> float:
    """Tansu completes a group join only after the rebalance timeout, so keep it short there."""
    if settings.rebalance_timeout_s is not None:
        return settings.rebalance_timeout_s
    return 3.0 if embedded else 60.0


def producer_batch_bytes(settings: Settings, *, embedded: bool) -> int:
    """Tansu lists a partition's end offset as its last batch's first offset + 1, so Faust's
    changelog recovery would stop before the rest of that batch and lose table state; batches
    of one record keep the end offset exact there (docs/state.md, "Brokers")."""
    if settings.producer_batch_bytes is not None:
        return settings.producer_batch_bytes
    return 1 if embedded else 16384


def fetch_max_wait_ms(settings: Settings, *, embedded: bool) -> int:
    """Tansu answers a fetch only when its wait is over, even if records arrived meanwhile, so
    a long wait there delays every hop and stalls a burst; Kafka answers when records arrive,
    so its wait only paces an idle consumer and Faust's own 1.5 s stays."""
    if settings.fetch_max_wait_ms is not None:
        return settings.fetch_max_wait_ms
    return 100 if embedded else 1500


def create_app(settings: Settings, bootstrap: str, *, embedded: bool) -> Any:
    """A configured Faust app with its topics, tables, agents and web pages installed."""
    from stream.agents import install
    from stream.intake import IntakeTuning
    from stream.topics import declare_topics
    from stream.transport import FetchTuning, install_transport

    app = faust.App(
        settings.app_id,
        broker=f"kafka://{bootstrap}",
        store=settings.store,
        autodiscover=False,
        topic_disable_leader=True,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        broker_rebalance_timeout=rebalance_timeout(settings, embedded=embedded),
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        broker_commit_every=100,
        broker_commit_interval=1.0,
        producer_acks=-1,
        producer_max_batch_size=producer_batch_bytes(settings, embedded=embedded),
        datadir=str(settings.data_dir),
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_in_thread=False,
    )
    # Before anything touches ``app.transport``: the consumer is built from it on first use.
    install_transport(app, FetchTuning(max_wait_ms=fetch_max_wait_ms(settings, embedded=embedded)))
    from stream.web import install_all

    intake = IntakeTuning(
        max_wait_ms=fetch_max_wait_ms(settings, embedded=embedded),
        rebalance_timeout_s=rebalance_timeout(settings, embedded=embedded),
    )
    runtime = install(app, declare_topics(app, settings), settings, bootstrap, intake)
    install_all(app, runtime)
    return app
