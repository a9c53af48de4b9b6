"""Distinct sources seen in a sliding window, for corroboration thresholds and escalation.

A rule with ``threshold: {sources: 3, within: 7d}`` waits until three different outlets have
reported matching stories about the same entity within seven days. One store entry per
(rule, entity) maps each outlet to the last time it reported, so the entry stays as small as
the number of outlets, whatever the article rate.

Windows are half-open: a report at ``t`` counts at every moment in ``[t, t + within)``, the
same instant at which the entry's expiry makes the store forget it.
"""

from __future__ import annotations

from stream.state.store import TTLStore

__all__ = ["MAX_SOURCES", "count_sources", "observe_source"]

# Keep the newest outlets only: a window never needs more than the largest tier it counts to.
MAX_SOURCES = 1024


def _live(store: TTLStore, key: str, now: float, within: float) -> dict[str, float]:
    entry = store.get(key, now)
    if not isinstance(entry, dict):
        return {}
    return {
        str(source): float(seen)
        for source, seen in entry.items()
        if isinstance(seen, int | float) and seen <= now < seen + within
    }


def count_sources(store: TTLStore, key: str, now: float, within: float) -> int:
    """How many distinct sources reported within ``within`` seconds before ``now``."""
    return len(_live(store, key, now, within))


def observe_source(store: TTLStore, key: str, source: str, now: float, within: float) -> int:
    """Record that ``source`` reported at ``now``; return the distinct sources in the window.

    Reports stamped later than ``now`` (a replay running behind a live stream) are kept but
    not counted, so the window never looks into the future.
    """
    entry = store.get(key, now)
    kept: dict[str, float] = {}
    if isinstance(entry, dict):
        kept = {
            str(s): float(t)
            for s, t in entry.items()
            if isinstance(t, int | float) and now < t + within
        }
    kept[source] = max(now, kept.get(source, now))
    if len(kept) > MAX_SOURCES:
        newest = sorted(kept.items(), key=lambda item: item[1])[-MAX_SOURCES:]
        kept = dict(newest)
    store.put(key, kept, max(kept.values()) + within)
    return sum(1 for seen in kept.values() if seen <= now)
