"""Backtest: two rule sets over the same articles, and the difference in what they alert.

Both rule sets see each article at the same moment, each with its own fresh state, and their
alerts for that article are compared at once, so memory holds one article's alerts plus a
few examples per rule, whatever the input size. An alert is identified by (rule, article):
the engine gives at most one match per rule and article, and state at most one alert per
match. A pair present on one side only is *added* or *removed*; a pair on both sides whose
entity, severity, kind or title differ is *changed*.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from stream.engine import RuleSet
from stream.models import Alert, Severity
from stream.replay.model import SourceRecord
from stream.replay.run import Invalid, Replayer, parse_record

__all__ = [
    "COMPARED",
    "AlertBrief",
    "BacktestReport",
    "Change",
    "RuleDiff",
    "backtest",
]

COMPARED = ("entity", "severity", "kind", "title")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertBrief(_Model):
    """Enough of an alert to recognise it in a report."""

    article_id: str
    article_title: str
    entity: str | None
    severity: Severity
    kind: str
    title: str
    at: datetime

    @classmethod
    def of(cls, alert: Alert) -> AlertBrief:
        return cls(
            article_id=alert.article.id,
            article_title=alert.article.title,
            entity=alert.entity,
            severity=alert.severity,
            kind=alert.kind,
            title=alert.title,
            at=alert.created_at,
        )


class Change(_Model):
    """One (rule, article) alert that both rule sets give, differently."""

    fields: tuple[str, ...]
    baseline: AlertBrief
    candidate: AlertBrief


class RuleDiff(_Model):
    """The difference for one rule: counts on each side and a few examples of each kind."""

    rule_id: str
    baseline: int = 0
    candidate: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    examples_added: list[AlertBrief] = Field(default_factory=list)
    examples_removed: list[AlertBrief] = Field(default_factory=list)
    examples_changed: list[Change] = Field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed)


class BacktestReport(_Model):
    """The whole comparison; ``empty`` is what gates a rule change in CI."""

    baseline_version: str
    candidate_version: str
    articles: int
    invalid: int
    invalid_shown: list[str] = Field(default_factory=list)
    rules_added: list[str] = Field(default_factory=list)
    rules_removed: list[str] = Field(default_factory=list)
    baseline_alerts: int = 0
    candidate_alerts: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    rules: list[RuleDiff] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No alert added, removed or changed (rules that never fire do not count)."""
        return not (self.added or self.removed or self.changed)


class _Tally:
    def __init__(self, rule_id: str, examples: int) -> None:
        self.rule_id = rule_id
        self.limit = examples
        self.baseline = self.candidate = self.added = self.removed = self.changed = 0
        self.ex_added: list[AlertBrief] = []
        self.ex_removed: list[AlertBrief] = []
        self.ex_changed: list[Change] = []

    def freeze(self) -> RuleDiff:
        return RuleDiff(
            rule_id=self.rule_id,
            baseline=self.baseline,
            candidate=self.candidate,
            added=self.added,
            removed=self.removed,
            changed=self.changed,
            examples_added=self.ex_added,
            examples_removed=self.ex_removed,
            examples_changed=self.ex_changed,
        )


def _differences(before: Alert, after: Alert) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if getattr(before, name) != getattr(after, name))


def _pair(before: list[Alert], after: list[Alert]) -> tuple[
    list[tuple[Alert, Alert]], list[Alert], list[Alert]
]:
    """Pair one rule's alerts on one article: same entity first, then in order."""
    pairs: list[tuple[Alert, Alert]] = []
    left = list(before)
    right = list(after)
    for alert in list(left):
        twin = next((other for other in right if other.entity == alert.entity), None)
        if twin is not None:
            pairs.append((alert, twin))
            left.remove(alert)
            right.remove(twin)
    while left and right:
        pairs.append((left.pop(0), right.pop(0)))
    return pairs, right, left


def backtest(
    records: Iterable[SourceRecord],
    baseline: RuleSet,
    candidate: RuleSet,
    *,
    examples: int = 3,
    started: datetime | None = None,
) -> BacktestReport:
    """Compare ``baseline`` and ``candidate`` on ``records`` (read once)."""
    started = started or datetime.now(UTC)
    old = Replayer(baseline, started=started)
    new = Replayer(candidate, started=started)
    tallies: dict[str, _Tally] = {}
    invalid: list[Invalid] = []
    invalid_count = 0

    def tally(rule_id: str) -> _Tally:
        found = tallies.get(rule_id)
        if found is None:
            found = tallies[rule_id] = _Tally(rule_id, examples)
        return found

    for record in records:
        parsed = parse_record(record)
        if isinstance(parsed, Invalid):
            invalid_count += 1
            if len(invalid) < 20:
                invalid.append(parsed)
            continue
        now = old.clock(record, parsed)
        new.clock(record, parsed)
        before: dict[str, list[Alert]] = {}
        after: dict[str, list[Alert]] = {}
        for alert in old.process(parsed, now):
            before.setdefault(alert.rule_id, []).append(alert)
        for alert in new.process(parsed, now):
            after.setdefault(alert.rule_id, []).append(alert)
        for rule_id in sorted(before.keys() | after.keys()):
            t = tally(rule_id)
            was, now_alerts = before.get(rule_id, []), after.get(rule_id, [])
            t.baseline += len(was)
            t.candidate += len(now_alerts)
            pairs, added, removed = _pair(was, now_alerts)
            for a in added:
                t.added += 1
                if len(t.ex_added) < t.limit:
                    t.ex_added.append(AlertBrief.of(a))
            for r in removed:
                t.removed += 1
                if len(t.ex_removed) < t.limit:
                    t.ex_removed.append(AlertBrief.of(r))
            for b, a in pairs:
                fields = _differences(b, a)
                if fields:
                    t.changed += 1
                    if len(t.ex_changed) < t.limit:
                        t.ex_changed.append(
                            Change(fields=fields, baseline=AlertBrief.of(b),
                                   candidate=AlertBrief.of(a))
                        )
    old_ids = {rule.id for rule in baseline.rules}
    new_ids = {rule.id for rule in candidate.rules}
    diffs = [tallies[r].freeze() for r in sorted(tallies)]
    return BacktestReport(
        baseline_version=baseline.version,
        candidate_version=candidate.version,
        articles=old.stats.articles,
        invalid=invalid_count,
        invalid_shown=[f"{i.where}: {i.reason}" for i in invalid],
        rules_added=sorted(new_ids - old_ids),
        rules_removed=sorted(old_ids - new_ids),
        baseline_alerts=old.stats.alert_total,
        candidate_alerts=new.stats.alert_total,
        added=sum(d.added for d in diffs),
        removed=sum(d.removed for d in diffs),
        changed=sum(d.changed for d in diffs),
        rules=diffs,
    )
