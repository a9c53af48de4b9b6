"""The Alerts page's data: filters, and each recent alert with its destinations and evidence.

Pure over the runtime's recent alerts and router, so filters and delivery status are tested
without a web server. Destinations are the ones the router names now plus any that reported
an outcome; one the router names that has not reported yet shows as ``pending``.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import get_args

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict

from stream.delivery import Router
from stream.models import Alert, Severity, severity_rank
from stream.runtime import RecentAlerts
from stream.web.console.render import display_destination, highlight_terms, safe_href

__all__ = [
    "AlertQuery",
    "AlertView",
    "DeliveryView",
    "EvidenceView",
    "Facets",
    "alert_views",
    "destination_key",
    "facets",
]

_SEVERITIES: tuple[str, ...] = get_args(Severity)


class AlertQuery(BaseModel):
    """The filters of the Alerts page; empty fields do not constrain."""

    model_config = ConfigDict(frozen=True)

    severity: Severity | None = None
    tag: str = ""
    entity: str = ""
    rule: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> AlertQuery:
        """From query parameters; an unknown severity is dropped rather than an error page."""
        severity = params.get("severity", "").strip().lower()
        return cls(
            severity=severity if severity in _SEVERITIES else None,
            tag=params.get("tag", "").strip(),
            entity=params.get("entity", "").strip(),
            rule=params.get("rule", "").strip(),
        )

    def matches(self, alert: Alert) -> bool:
        """Severity is "at least"; tag and entity compare case-insensitively; rule is a glob."""
        if self.severity and severity_rank(alert.severity) < severity_rank(self.severity):
            return False
        if self.tag and self.tag.casefold() not in {t.casefold() for t in alert.tags}:
            return False
        if self.entity and self.entity.casefold() != (alert.entity or "").casefold():
            return False
        return not self.rule or fnmatch.fnmatchcase(alert.rule_id, self.rule)

    def params(self) -> dict[str, str]:
        """The non-empty filters, to carry into the live-update URL."""
        values = {"severity": self.severity or "", "tag": self.tag, "entity": self.entity,
                  "rule": self.rule}
        return {k: v for k, v in values.items() if v}


def destination_key(name: str) -> str:
    """An opaque handle for a destination in forms: a shorthand webhook's name is its URL."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One destination of an alert and what happened there (``name`` is never rendered)."""

    name: str
    label: str
    status: str

    @property
    def key(self) -> str:
        return destination_key(self.name)

    @property
    def redrivable(self) -> bool:
        return self.status in ("dead_lettered", "skipped_dead")


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """One piece of evidence, its snippet escaped with the matched words marked."""

    field: str
    term: str
    snippet: Markup


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as the page shows it."""

    alert: Alert
    href: str | None
    deliveries: tuple[DeliveryView, ...]
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True, slots=True)
class Facets:
    """Values seen in recent alerts, offered as suggestions in the filter inputs."""

    tags: tuple[str, ...]
    entities: tuple[str, ...]
    rules: tuple[str, ...]


def _deliveries(
    alert: Alert, router: Router, outcomes: Mapping[str, Mapping[str, str]]
) -> tuple[DeliveryView, ...]:
    reported = outcomes.get(alert.id, {})
    names = list(dict.fromkeys([*router.route(alert), *reported]))
    return tuple(
        DeliveryView(name, display_destination(name), reported.get(name, "pending"))
        for name in names
    )


def _evidence(alert: Alert) -> tuple[EvidenceView, ...]:
    """One row per distinct snippet, each marking every matched word it contains."""
    words = [e.text for e in alert.evidence]
    seen: dict[str, EvidenceView] = {}
    for item in alert.evidence:
        if item.snippet not in seen:
            seen[item.snippet] = EvidenceView(
                item.field, item.term, highlight_terms(item.snippet, words)
            )
    return tuple(seen.values())


def alert_views(
    recent: RecentAlerts, router: Router, query: AlertQuery, limit: int = 200
) -> list[AlertView]:
    """The newest ``limit`` recent alerts that pass ``query``, newest first."""
    views: list[AlertView] = []
    for alert in recent:
        if not query.matches(alert):
            continue
        views.append(AlertView(
            alert=alert,
            href=safe_href(alert.article.url),
            deliveries=_deliveries(alert, router, recent.outcomes),
            evidence=_evidence(alert),
        ))
        if len(views) >= limit:
            break
    return views


def _sorted(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}, key=str.casefold))


def facets(recent: RecentAlerts) -> Facets:
    alerts = list(recent)
    return Facets(
        tags=_sorted(t for a in alerts for t in a.tags),
        entities=_sorted(a.entity for a in alerts),
        rules=_sorted(a.rule_id for a in alerts),
    )
