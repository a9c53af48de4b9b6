"""A ``MutableMapping`` mirrored from a compacted Kafka topic, for state every worker must see.

Faust tables are partitioned: each worker holds only its partitions. Slack slash-command
subscriptions must be visible to every worker, survive restarts and be writable from a web
request (outside any stream event). So: writes go to a compacted topic (a tombstone deletes),
and every worker reads the whole topic, from the beginning, with its own group-less consumer.
A write is visible locally at once and on other workers as soon as they read it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

__all__ = ["TopicMap", "follow"]

log = logging.getLogger(__name__)

Send = Callable[[bytes, bytes | None], None]


class TopicMap(MutableMapping[str, Any]):
    """JSON values keyed by string; ``send(key, value_or_None)`` publishes one change."""

    def __init__(self, send: Send) -> None:
        self._data: dict[str, Any] = {}
        self._send = send

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Fold one record read from the topic into the mirror."""
        if key is None:
            return
        name = key.decode("utf-8", "replace")
        if value is None:
            self._data.pop(name, None)
            return
        try:
            self._data[name] = json.loads(value)
        except ValueError:
            log.warning("ignoring unreadable record for %r on the subscriptions topic", name)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        encoded = json.dumps(value, sort_keys=True).encode()
        self._data[key] = json.loads(encoded)
        self._send(key.encode(), encoded)

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._send(key.encode(), None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)


async def follow(bootstrap: str, topic: str, target: TopicMap, stop: asyncio.Event) -> None:
    """Read ``topic`` from the beginning into ``target`` until ``stop`` is set."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        # Without a group, a subscription takes every partition as soon as the metadata names
        # it, and with no committed offset reading starts at the earliest one. (Assigning from
        # the bootstrap metadata found no partitions on Apache Kafka, which names no topics.)
        consumer.subscribe([topic])
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    target.apply(record.key, record.value)
    finally:
        await consumer.stop()
