"""Topic names, their partitioning, and how the worker declares them to Faust.

Every topic carries raw bytes: (de)serialisation is done by our pydantic models, so a bad
message can be dead-lettered byte for byte instead of failing inside Faust's codec layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream.broker.topics import TopicSpec
from stream.settings import Settings

__all__ = ["LEDGER_TABLE", "STATE_TABLE", "Topics", "changelog", "declare_topics", "topic_specs"]

# The worker's Faust tables; each is backed by the compacted topic ``changelog(app_id, name)``.
STATE_TABLE = "alert-state"
LEDGER_TABLE = "delivery-ledger"


def changelog(app_id: str, table: str) -> str:
    """The name Faust gives a table's changelog topic."""
    return f"{app_id}-{table}-changelog"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics the worker needs before it starts (Tansu never creates topics on first use)."""
    n, r = settings.partitions, settings.replication_factor
    return [
        TopicSpec(name=settings.articles_topic, partitions=n, replication=r),
        TopicSpec(name=settings.articles_dlq_topic, partitions=1, replication=r),
        TopicSpec(name=settings.matches_topic, partitions=n, replication=r),
        TopicSpec(name=settings.alerts_topic, partitions=n, replication=r),
        TopicSpec(name=settings.alerts_dlq_topic, partitions=1, replication=r),
        TopicSpec(name=settings.subscriptions_topic, partitions=1, replication=r, compacted=True),
        # Created here rather than left to Faust: a worker that starts before a topic it just
        # declared is visible finds no partitions for the table and cannot write to it.
        *(
            TopicSpec(name=changelog(settings.app_id, table), partitions=n, replication=r,
                      compacted=True)
            for table in (STATE_TABLE, LEDGER_TABLE)
        ),
    ]


@dataclass(frozen=True)
class Topics:
    articles: Any
    articles_dlq: Any
    matches: Any
    alerts: Any
    alerts_dlq: Any
    subscriptions: Any


def declare_topics(app: Any, settings: Settings) -> Topics:
    """Declare the topics on a Faust app (raw bytes values, string keys)."""

    def topic(name: str, partitions: int) -> Any:
        return app.topic(
            name, key_serializer="raw", value_serializer="raw", partitions=partitions
        )

    n = settings.partitions
    return Topics(
        articles=topic(settings.articles_topic, n),
        articles_dlq=topic(settings.articles_dlq_topic, 1),
        matches=topic(settings.matches_topic, n),
        alerts=topic(settings.alerts_topic, n),
        alerts_dlq=topic(settings.alerts_dlq_topic, 1),
        subscriptions=topic(settings.subscriptions_topic, 1),
    )
