"""Read a worker's ``/metrics`` page into plain numbers tests can compare."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Scrape", "parse"]

Labels = frozenset[tuple[str, str]]


class Scrape:
    """Samples of one scrape, by sample name and label set."""

    def __init__(self, samples: Mapping[str, Mapping[Labels, float]], families: set[str]) -> None:
        self.samples = samples
        self.families = families

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples.get(name, {}).get(frozenset(labels.items()))

    def total(self, name: str, **match: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``match``."""
        wanted = set(match.items())
        return sum(v for k, v in self.samples.get(name, {}).items() if wanted <= k)

    def labelled(self, name: str) -> dict[Labels, float]:
        return dict(self.samples.get(name, {}))

    def owned_partitions(self, topic: str) -> set[int]:
        """Partitions of ``topic`` this worker reports lag for: the ones assigned to it."""
        return {
            int(dict(labels)["partition"])
            for labels in self.samples.get("newsalert_consumer_lag", {})
            if dict(labels).get("topic") == topic
        }


def parse(text: str) -> Scrape:
    samples: dict[str, dict[Labels, float]] = {}
    families: set[str] = set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return Scrape(samples, families)
