"""``newsalert run``: the worker, on the embedded broker unless NEWSALERT_KAFKA_BOOTSTRAP is set."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from stream.broker import EmbeddedBroker, ensure_topics
from stream.cli import app
from stream.logs import configure as configure_logging
from stream.logs import logging_config
from stream.settings import Settings
from stream.topics import topic_specs

__all__ = ["run"]

_SAMPLES = Path("examples/articles.jsonl")


@app.command()
def run(
    demo: bool = typer.Option(
        False,
        help="Also start a local webhook receiver that prints what it gets, and publish "
        "the bundled sample articles.",
    ),
    samples: Path = typer.Option(_SAMPLES, help="Articles published with --demo."),
) -> None:
    """Run the worker: consume articles, match rules, write and deliver alerts."""
    import faust

    from stream.app import create_app
    from stream.demo import DemoReceiver
    from stream.produce import produce_articles

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.kafka_bootstrap is None and settings.replication_factor > 1:
        typer.echo(
            f"NEWSALERT_REPLICATION_FACTOR={settings.replication_factor}: the embedded broker is "
            "a single node, so topics there have one replica; set it to 1, or set "
            "NEWSALERT_KAFKA_BOOTSTRAP to a cluster with that many brokers",
            err=True,
        )
        raise typer.Exit(2)
    with contextlib.ExitStack() as stack:
        bootstrap = settings.kafka_bootstrap
        embedded = bootstrap is None
        if bootstrap is None:
            broker = stack.enter_context(EmbeddedBroker())
            bootstrap = broker.bootstrap
            typer.echo(f"embedded broker ready at {bootstrap}")
        ensure_topics(bootstrap, topic_specs(settings))
        if demo:
            receiver = DemoReceiver()
            receiver.start()
            stack.callback(receiver.stop)
            settings = settings.model_copy(
                update={
                    "webhook_urls": [*settings.webhook_urls, receiver.url],
                    "allow_private_destinations": True,
                }
            )
            report = produce_articles(bootstrap, settings.articles_topic, samples)
            typer.echo(f"published {report.sent} sample articles from {samples}")
        faust_app = create_app(settings, bootstrap, embedded=embedded)
        worker = faust.Worker(
            faust_app,
            loglevel=settings.log_level,
            logging_config=logging_config(settings.log_format, settings.log_level),
        )
        with contextlib.suppress(SystemExit):
            worker.execute_from_commandline()
