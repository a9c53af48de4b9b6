"""Run replayed articles through a rule set with fresh, throw-away alert state.

The state is a new ``AlertState(dict())`` per run, never the worker's tables: a replay can
neither suppress a production alert (by filling dedup windows) nor be suppressed by one. The
clock is the record's own time (the Kafka timestamp, or ``published_at`` for a file), so
dedup windows, thresholds and escalation behave as they did when the articles arrived, and
the same input always gives the same alerts, ids and ``created_at`` included. An article that
appears twice (a producer retry) gets its alert again from state, with the same id; like the
delivery ledger in production, the replay emits each alert id once and counts the repeats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stream.engine import RuleSet
from stream.errors import ArticleError
from stream.ingest import parse_article
from stream.models import Alert, Article
from stream.replay.model import SourceRecord
from stream.state import AlertState

__all__ = ["Invalid", "ReplayStats", "Replayer", "parse_record"]

# Invalid inputs remembered with their reason for the summary; beyond this only counted.
MAX_INVALID_SHOWN = 20
# Articles between two sweeps of expired state: keeps a long replay's memory flat.
SWEEP_EVERY = 1000


@dataclass(frozen=True, slots=True)
class Invalid:
    """An input that is not a valid article: where it was and why."""

    where: str
    reason: str


@dataclass
class ReplayStats:
    """What a replay read and produced, for the summary and the regression checks."""

    articles: int = 0
    invalid: int = 0
    invalid_shown: list[Invalid] = field(default_factory=list)
    matches: int = 0
    repeats: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None

    def note_invalid(self, invalid: Invalid) -> None:
        self.invalid += 1
        if len(self.invalid_shown) < MAX_INVALID_SHOWN:
            self.invalid_shown.append(invalid)

    @property
    def alert_total(self) -> int:
        return sum(self.alerts.values())


def parse_record(record: SourceRecord) -> Article | Invalid:
    """The article in ``record``, or where and why it is not one (never raises)."""
    try:
        return parse_article(record.value)
    except ArticleError as exc:
        return Invalid(record.where, str(exc))


class Replayer:
    """One rule set, one fresh state, fed articles in order."""

    def __init__(self, ruleset: RuleSet, *, started: datetime | None = None) -> None:
        self.ruleset = ruleset
        self.state = AlertState(dict())
        self.stats = ReplayStats()
        self._now = started or datetime.now(UTC)
        self._since_sweep = 0
        # Alert ids already emitted: a redelivered article gets its alert again from state
        # (same id), which destinations never see twice; neither does the replay output.
        self._said: set[str] = set()

    def clock(self, record: SourceRecord, article: Article) -> datetime:
        """The moment an article counts as processed: record time, publication, or the last.

        Time never runs backwards inside a replay, so an out-of-order stamp cannot reopen a
        window that already closed.
        """
        moment = record.moment or article.published_at
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            if moment > self._now or self.stats.articles == 0:
                self._now = moment
        return self._now

    def process(self, article: Article, now: datetime) -> list[Alert]:
        """The alerts ``article`` gives at ``now`` under this rule set and this run's state."""
        stats = self.stats
        stats.articles += 1
        stats.first = stats.first or now
        stats.last = now
        alerts: list[Alert] = []
        for match in self.ruleset.evaluate(article):
            stats.matches += 1
            for alert in self.state.decide(match, article, now):
                if alert.id in self._said:
                    stats.repeats += 1
                    continue
                self._said.add(alert.id)
                stats.alerts[alert.rule_id] += 1
                alerts.append(alert)
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._since_sweep = 0
            self.state.sweep(now)
        return alerts

    def step(self, record: SourceRecord) -> list[Alert]:
        """The alerts one raw record gives; an invalid one is counted and gives none."""
        parsed = parse_record(record)
        if isinstance(parsed, Invalid):
            self.stats.note_invalid(parsed)
            return []
        return self.process(parsed, self.clock(record, parsed))

    def run(self, records: Iterable[SourceRecord]) -> Iterator[Alert]:
        """Every alert the records give, in input order; invalid inputs are only counted."""
        for record in records:
            yield from self.step(record)
