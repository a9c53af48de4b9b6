"""Prometheus metrics, defined once and registered on a registry of our own.

A private registry keeps the exposition free of whatever else the process imports, and lets
tests build a fresh one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["METRICS", "Metrics"]

_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class Metrics:
    """All counters, gauges and histograms of the worker."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.articles_consumed = Counter(
            "newsalert_articles_consumed", "Articles read from the articles topic.", registry=r
        )
        self.articles_invalid = Counter(
            "newsalert_articles_invalid", "Messages dead-lettered as invalid articles.", registry=r
        )
        self.rule_matches = Counter(
            "newsalert_rule_matches", "Rule matches before state.", ["rule"], registry=r
        )
        self.alerts = Counter(
            "newsalert_alerts", "Alerts written to the alerts topic.", ["severity"], registry=r
        )
        self.deliveries = Counter(
            "newsalert_deliveries",
            "Delivery outcomes per destination.",
            ["destination", "outcome"],
            registry=r,
        )
        self.delivery_faults = Counter(
            "newsalert_delivery_faults",
            "Alert deliveries that failed inside the worker and were started again.",
            registry=r,
        )
        self.delivery_latency = Histogram(
            "newsalert_delivery_latency_seconds",
            "Alert creation to accepted delivery.",
            ["destination"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_latency = Histogram(
            "newsalert_end_to_end_latency_seconds",
            "Article timestamp on the topic to accepted delivery.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.rules_loaded = Gauge("newsalert_rules_loaded", "Rules currently live.", registry=r)
        self.rule_reload_errors = Counter(
            "newsalert_rule_reload_errors", "Rejected rule reloads.", registry=r
        )
        self.consumer_lag = Gauge(
            "newsalert_consumer_lag",
            "Messages between the committed offset and the end of a partition.",
            ["topic", "partition"],
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()
