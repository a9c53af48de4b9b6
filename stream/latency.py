"""Latency of an alert: from the article's record on the topic, and from the alert's creation.

The article's Kafka timestamp is the honest start of "how long until someone is told": it is
set when the article reached the broker, before any queueing in our workers. It travels with
the match and the alert as a record header rather than a model field, so the wire formats
webhook receivers see stay unchanged, and a record without it (a replay, an older producer)
simply contributes no end-to-end observation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from stream.metrics import Metrics

__all__ = ["ARTICLE_TS_HEADER", "article_timestamp", "observe_delivery", "stamp"]

ARTICLE_TS_HEADER = "newsalert-article-ts"


def stamp(timestamp: float | None) -> dict[str, bytes]:
    """Headers carrying ``timestamp`` (seconds since the epoch); none when it is unknown."""
    if timestamp is None or timestamp <= 0:
        return {}
    return {ARTICLE_TS_HEADER: repr(float(timestamp)).encode()}


def article_timestamp(headers: Mapping[str, bytes] | None) -> float | None:
    """The article timestamp a record carries, or None when absent or unreadable."""
    raw = (headers or {}).get(ARTICLE_TS_HEADER)
    if raw is None:
        return None
    try:
        value = float(raw.decode() if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if value > 0 else None


def observe_delivery(
    metrics: Metrics,
    created_at: datetime,
    article_ts: float | None,
    delivered_to: Iterable[str],
    now: float,
) -> None:
    """Record the latencies of one alert accepted by ``delivered_to`` at ``now`` (epoch s).

    Delivery latency is per destination; end-to-end latency is once per alert, however many
    destinations took it, so its count equals the number of delivered alerts. Clock skew
    between hosts can make a difference negative: it is clamped to zero, not dropped.
    """
    destinations = list(delivered_to)
    if not destinations:
        return
    since_created = max(0.0, now - created_at.timestamp())
    for destination in destinations:
        metrics.delivery_latency.labels(destination=destination).observe(since_created)
    if article_ts is not None:
        metrics.end_to_end_latency.observe(max(0.0, now - article_ts))
