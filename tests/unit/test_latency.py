"""Latency headers and observations: what the deliver agent records per alert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from stream.latency import ARTICLE_TS_HEADER, article_timestamp, observe_delivery, stamp
from stream.metrics import Metrics


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (stamp(1764300000.25), 1764300000.25),
        ({ARTICLE_TS_HEADER: b"12.5"}, 12.5),
        ({ARTICLE_TS_HEADER: b"not a number"}, None),
        ({ARTICLE_TS_HEADER: b"\xff"}, None),
        ({ARTICLE_TS_HEADER: b"-3"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_article_timestamp_round_trip(
    headers: dict[str, bytes] | None, expected: float | None
) -> None:
    assert article_timestamp(headers) == expected


@pytest.mark.parametrize("unknown", [None, 0.0, -1.0])
def test_no_header_without_a_timestamp(unknown: float | None) -> None:
    assert stamp(unknown) == {}


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


def test_observes_each_destination_and_the_alert_once() -> None:
    metrics = Metrics(CollectorRegistry())
    created = datetime.fromtimestamp(1000.0, UTC)
    observe_delivery(metrics, created, 990.0, ["slack:alerts", "webhook:a"], now=1002.0)
    for dest in ("slack:alerts", "webhook:a"):
        assert _value(metrics, "newsalert_delivery_latency_seconds_count", destination=dest) == 1
        assert _value(metrics, "newsalert_delivery_latency_seconds_sum", destination=dest) == 2.0
    assert _value(metrics, "newsalert_end_to_end_latency_seconds_count") == 1
    assert _value(metrics, "newsalert_end_to_end_latency_seconds_sum") == 12.0


def test_nothing_delivered_observes_nothing() -> None:
    metrics = Metrics(CollectorRegistry())
    observe_delivery(metrics, datetime.fromtimestamp(1.0, UTC), 1.0, [], now=5.0)
    assert _value(metrics, "newsalert_end_to_end_latency_seconds_count") == 0


def test_clock_skew_is_clamped_and_missing_article_time_skips_end_to_end() -> None:
    metrics = Metrics(CollectorRegistry())
    observe_delivery(metrics, datetime.fromtimestamp(10.0, UTC), None, ["w"], now=9.0)
    assert _value(metrics, "newsalert_delivery_latency_seconds_sum", destination="w") == 0.0
    assert _value(metrics, "newsalert_end_to_end_latency_seconds_count") == 0
