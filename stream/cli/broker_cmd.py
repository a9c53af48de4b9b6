"""``newsalert broker``: the embedded broker in the foreground, for local work with other tools."""

from __future__ import annotations

import signal
import threading

import typer

from stream.broker import EmbeddedBroker, ensure_topics
from stream.cli import app
from stream.settings import Settings
from stream.topics import topic_specs

__all__ = ["broker"]


@app.command()
def broker(
    port: int = typer.Option(9092, help="Loopback port to listen on (0: any free port)."),
    create_topics: bool = typer.Option(True, help="Create the worker's topics at start."),
) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, in memory) until Ctrl-C."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with EmbeddedBroker(port=port or None) as embedded:
        if create_topics:
            ensure_topics(embedded.bootstrap, topic_specs(Settings()))
        typer.echo(f"embedded broker ready at {embedded.bootstrap} (Ctrl-C stops it)")
        typer.echo(f"  export NEWSALERT_KAFKA_BOOTSTRAP={embedded.bootstrap}")
        while not stop.wait(timeout=1.0) and embedded.running:
            pass
    typer.echo("embedded broker stopped")
