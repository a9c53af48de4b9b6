"""What a running worker holds, in one object the agents and web pages share.

Building it is separate from Faust so the console, the health pages and the agents all see the
same live rules, router and recent alerts without reaching into each other.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stream.delivery import Dispatcher, Router, SinkSet
from stream.models import Alert
from stream.rules_live import LiveRules
from stream.settings import Settings

__all__ = ["RecentAlerts", "RuleActivity", "Runtime"]


class RuleActivity:
    """Alerts per rule in fixed time buckets: "how often in the last 24 h" in bounded memory.

    The recent-alerts ring forgets old alerts by count, not time, so it cannot answer for a
    quiet rule next to a noisy one; buckets can, to within one bucket.
    """

    def __init__(self, window: timedelta = timedelta(hours=24), bucket_s: int = 600) -> None:
        self.window = window
        self.bucket_s = bucket_s
        self._buckets: dict[str, dict[int, int]] = {}

    def _bucket(self, at: datetime) -> int:
        return int(at.timestamp()) // self.bucket_s

    def record(self, rule_id: str, at: datetime) -> None:
        per_rule = self._buckets.setdefault(rule_id, {})
        bucket = self._bucket(at)
        per_rule[bucket] = per_rule.get(bucket, 0) + 1
        oldest = self._bucket(at - self.window)
        for stale in [b for b in per_rule if b < oldest]:
            del per_rule[stale]

    def count(self, rule_id: str, now: datetime) -> int:
        """Alerts of ``rule_id`` whose bucket lies within the window ending at ``now``."""
        oldest, newest = self._bucket(now - self.window), self._bucket(now)
        per_rule = self._buckets.get(rule_id, {})
        return sum(n for b, n in per_rule.items() if oldest < b <= newest)


class RecentAlerts:
    """The last ``size`` alerts this worker saw, newest first, with delivery outcomes."""

    def __init__(self, size: int = 500) -> None:
        self._alerts: deque[Alert] = deque(maxlen=size)
        self.outcomes: dict[str, dict[str, str]] = {}
        self.version = 0
        self.activity = RuleActivity()

    def add(self, alert: Alert) -> None:
        self._alerts.appendleft(alert)
        self.activity.record(alert.rule_id, alert.created_at)
        self.version += 1
        live = {a.id for a in self._alerts}
        for stale in [k for k in self.outcomes if k not in live]:
            del self.outcomes[stale]

    def delivered(self, alert_id: str, destination: str, status: str) -> None:
        self.outcomes.setdefault(alert_id, {})[destination] = status
        self.version += 1

    def __iter__(self) -> Iterator[Alert]:
        return iter(list(self._alerts))

    def __len__(self) -> int:
        return len(self._alerts)


@dataclass
class Runtime:
    """The live parts of one worker."""

    settings: Settings
    rules: LiveRules
    router: Router
    sinks: SinkSet
    dispatcher: Dispatcher | None = None
    slash_store: MutableMapping[str, Any] | None = None
    recent: RecentAlerts = field(default_factory=RecentAlerts)
    matches: RuleActivity = field(default_factory=RuleActivity)
    partitions_assigned: bool = False
    articles_assigned: asyncio.Event = field(default_factory=asyncio.Event)
    rules_watched: asyncio.Event = field(default_factory=asyncio.Event)
    intake: Any = None
    started_at: datetime | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Faust's group joined, articles partitions held by the intake (a worker left without
        any, because there are more workers than partitions, stays unready), and the rules
        watcher running, so a rule edit is seen."""
        return (
            self.partitions_assigned
            and self.articles_assigned.is_set()
            and self.rules_watched.is_set()
        )
