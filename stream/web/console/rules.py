"""The Rules page's data: every live rule with its version and activity, and reload problems.

Three activity figures, because they answer different questions: alerts in the last 24 hours
(what analysts saw, after dedup and thresholds), matches in the last 24 hours (how often the
rule's words hold, before state), and matches since the worker started (the Prometheus counter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prometheus_client import Counter

from stream.errors import Problem
from stream.runtime import Runtime

__all__ = ["RuleRow", "RulesPage", "matches_since_start", "rules_page"]


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One live rule."""

    id: str
    name: str
    file: str
    line: int
    version: str
    severity: str
    tags: tuple[str, ...]
    enabled: bool
    alerts_24h: int
    matches_24h: int
    matches: int


@dataclass(frozen=True, slots=True)
class RulesPage:
    """Everything the Rules page shows."""

    version: str
    files: tuple[str, ...]
    last_reload: datetime | None
    last_attempt: datetime | None
    reloads: int
    rows: tuple[RuleRow, ...]
    errors: tuple[Problem, ...]


def matches_since_start(counter: Counter) -> dict[str, int]:
    """Per-rule totals of the ``rule_matches`` counter (labelled by ``rule``)."""
    totals: dict[str, int] = {}
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and "rule" in sample.labels:
                totals[sample.labels["rule"]] = int(sample.value)
    return totals


def _shown(file: str, roots: tuple[Path, ...]) -> str:
    """A rule file relative to the rules directory it came from, when it is under one."""
    path = Path(file)
    for root in roots:
        try:
            return str(path.resolve().relative_to(root.resolve().parent))
        except ValueError:
            continue
    return file


def rules_page(runtime: Runtime, now: datetime, matches: dict[str, int]) -> RulesPage:
    live = runtime.rules
    ruleset = live.ruleset
    activity = runtime.recent.activity
    rows = tuple(
        RuleRow(
            id=rule.id,
            name=rule.name,
            file=_shown(rule.file, live.paths),
            line=rule.line,
            version=rule.version,
            severity=rule.severity,
            tags=rule.tags,
            enabled=rule.enabled,
            alerts_24h=activity.count(rule.id, now),
            matches_24h=runtime.matches.count(rule.id, now),
            matches=matches.get(rule.id, 0),
        )
        for rule in ruleset.rules
    )
    return RulesPage(
        version=ruleset.version,
        files=tuple(_shown(f, live.paths) for f in ruleset.files),
        last_reload=live.last_reload,
        last_attempt=live.last_attempt,
        reloads=live.reloads,
        rows=rows,
        errors=tuple(
            Problem(_shown(p.file, live.paths), p.line, p.column, p.message)
            for p in live.last_errors
        ),
    )
