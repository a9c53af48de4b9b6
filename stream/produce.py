"""Load articles from a JSON-lines file into a topic, validating every line first.

Bad lines are reported with their line numbers; in strict mode nothing is sent when any line
is bad, so a half-loaded topic never happens by accident. With ``timestamps="published"`` each
record carries its article's ``published_at`` as the Kafka timestamp, so a topic loaded with
last week's articles can be replayed by time (``newsalert replay --since``) as if it had been
filled live.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Literal

from stream.errors import ArticleError
from stream.ingest import parse_article
from stream.models import Article

__all__ = [
    "BadLine",
    "ProduceReport",
    "Timestamps",
    "produce_articles",
    "read_articles",
    "record_timestamp",
]

Timestamps = Literal["now", "published"]


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


@dataclass
class ProduceReport:
    sent: int = 0
    skipped: list[BadLine] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def read_articles(path: Path) -> Iterator[tuple[int, Article | BadLine]]:
    """Yield (line number, article or the reason the line is bad); blank lines are skipped."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield number, parse_article(raw)
            except ArticleError as exc:
                yield number, BadLine(number, str(exc))


def record_timestamp(article: Article, timestamps: Timestamps) -> int | None:
    """The Kafka timestamp (ms) to send ``article`` with; None lets the producer stamp it now.

    An article without ``published_at`` is stamped now even in ``published`` mode: a record
    always has a time, and a replay by time then places it at its loading.
    """
    if timestamps == "now" or article.published_at is None:
        return None
    moment = article.published_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def produce_articles(
    bootstrap: str,
    topic: str,
    path: Path,
    *,
    strict: bool = False,
    on_progress: Callable[[int], None] | None = None,
    timestamps: Timestamps = "now",
) -> ProduceReport:
    """Send every valid article of ``path`` to ``topic`` keyed by article id."""
    from kafka import KafkaProducer

    report = ProduceReport()
    if strict:
        bad = [item for _, item in read_articles(path) if isinstance(item, BadLine)]
        if bad:
            report.skipped = bad
            return report
    started = time.monotonic()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        for _, item in read_articles(path):
            if isinstance(item, BadLine):
                report.skipped.append(item)
                continue
            producer.send(
                topic,
                key=item.id.encode(),
                value=item.model_dump_json().encode(),
                timestamp_ms=record_timestamp(item, timestamps),
            )
            report.sent += 1
            if on_progress is not None:
                on_progress(1)
        producer.flush()
    finally:
        producer.close()
    report.seconds = time.monotonic() - started
    return report
