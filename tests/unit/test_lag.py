"""Consumer lag arithmetic and gauge bookkeeping (the broker round trips are tested in
tests/integration/test_metrics.py against a real worker)."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from stream.lag import compute_lag, publish
from stream.metrics import Metrics

A0, A1, M0 = TopicPartition("articles", 0), TopicPartition("articles", 1), TopicPartition("m", 0)


@pytest.mark.parametrize(
    ("end", "committed", "beginning", "expected"),
    [
        ({A0: 10}, {A0: 10}, None, {A0: 0}),
        ({A0: 10}, {A0: 4}, None, {A0: 6}),
        ({A0: 10}, {}, None, {A0: 10}),
        ({A0: 10}, {A0: -1}, None, {A0: 10}),
        ({A0: 10}, {A0: None}, {A0: 7}, {A0: 3}),  # never committed: from the first kept record
        ({A0: 10}, {A0: 12}, None, {A0: 0}),  # a commit raced the end offset
        ({A0: 5, A1: 9, M0: 0}, {A0: 5, A1: 1}, {M0: 0}, {A0: 0, A1: 8, M0: 0}),
    ],
)
def test_compute_lag(
    end: dict[TopicPartition, int],
    committed: dict[TopicPartition, int | None],
    beginning: dict[TopicPartition, int] | None,
    expected: dict[TopicPartition, int],
) -> None:
    assert compute_lag(end, committed, beginning) == expected


def _samples(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in metrics.registry.collect()
        if family.name == "newsalert_consumer_lag"
        for s in family.samples
    }


def test_publish_sets_and_retires_partitions() -> None:
    """After a rebalance a worker stops reporting partitions it lost, so sums stay true."""
    metrics = Metrics(CollectorRegistry())
    shown = publish(metrics.consumer_lag, {A0: 3, A1: 0})
    assert _samples(metrics) == {("articles", "0"): 3, ("articles", "1"): 0}
    shown = publish(metrics.consumer_lag, {A1: 5, M0: 2}, shown)
    assert _samples(metrics) == {("articles", "1"): 5, ("m", "0"): 2}
    assert shown == {A1, M0}
    assert publish(metrics.consumer_lag, {}, shown) == set()
    assert _samples(metrics) == {}


def test_publish_tolerates_a_label_already_gone() -> None:
    metrics = Metrics(CollectorRegistry())
    assert publish(metrics.consumer_lag, {}, {A0}) == set()
