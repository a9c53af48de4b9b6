"""Producing test records to a real broker, acknowledged by it before the call returns."""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaProducer

__all__ = ["produce"]


def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> None:
    """Send ``(key, value)`` records one by one, each acknowledged before the next, so their
    order on a partition is the order given even if the client had to retry."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value).get(timeout=30)
    finally:
        producer.close()
