"""The Subscriptions page's data: destinations, routes, slash-command channels, and a check.

Read-only and secret-free by construction: destinations are described field by field from
their models (never dumped whole), webhook URLs are cut to scheme and host, header values are
dropped, and a secret shows only as the name of the environment variable that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from stream.delivery import Router
from stream.delivery.router import RouteHit
from stream.delivery.subscriptions import (
    ConsoleDestination,
    Destination,
    SlackDestination,
    WebhookDestination,
)
from stream.engine import RuleSet
from stream.models import Alert, ArticleRef, Severity
from stream.runtime import RecentAlerts
from stream.web.console.render import display_destination, redact_url

__all__ = [
    "CheckResult",
    "DestinationRow",
    "DynamicRow",
    "RouteRow",
    "SubscriptionsPage",
    "check_alert",
    "subscriptions_page",
]

_SEVERITIES: tuple[str, ...] = get_args(Severity)


@dataclass(frozen=True, slots=True)
class DestinationRow:
    name: str
    kind: str
    target: str
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteRow:
    name: str
    rules: tuple[str, ...]
    tags: tuple[str, ...]
    entities: tuple[str, ...]
    min_severity: str
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DynamicRow:
    channel: str
    filters: tuple[str, ...]
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubscriptionsPage:
    file: str | None
    destinations: tuple[DestinationRow, ...]
    routes: tuple[RouteRow, ...]
    dynamic: tuple[DynamicRow, ...]


def _describe(name: str, dest: Destination) -> DestinationRow:
    label = display_destination(name)
    if isinstance(dest, SlackDestination):
        notes = [f"at most one message every {dest.min_interval_s:g} s"]
        if dest.token_env:
            notes.append(f"bot token from ${dest.token_env}")
        return DestinationRow(label, "slack", dest.channel, tuple(notes))
    if isinstance(dest, WebhookDestination):
        notes = [f"signed (secret from ${dest.secret_env})" if dest.secret_env else "unsigned"]
        if dest.headers:
            notes.append("extra headers: " + ", ".join(sorted(dest.headers)))
        notes.append(f"timeout {dest.timeout_s:g} s")
        return DestinationRow(label, "webhook", redact_url(dest.url), tuple(notes))
    assert isinstance(dest, ConsoleDestination)
    return DestinationRow(label, "console", "worker log", ())


def subscriptions_page(router: Router, file: str | None) -> SubscriptionsPage:
    subs = router.subscriptions
    routes = tuple(
        RouteRow(
            name=route.name or f"routes[{index}]",
            rules=route.rules,
            tags=route.tags,
            entities=route.entities,
            min_severity=route.min_severity,
            to=tuple(display_destination(n) for n in route.to),
        )
        for index, route in enumerate(subs.routes)
    )
    dynamic = tuple(
        DynamicRow(
            channel=sub.channel,
            filters=tuple(f.describe() for f in sub.filters),
            updated_by=sub.updated_by,
            updated_at=(
                datetime.fromtimestamp(sub.updated_at, UTC) if sub.updated_at else None
            ),
        )
        for sub in router.dynamic_subscriptions()
    )
    return SubscriptionsPage(
        file=file,
        destinations=tuple(_describe(n, d) for n, d in sorted(subs.destinations.items())),
        routes=routes,
        dynamic=dynamic,
    )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The alert that was tried and the destinations (with the route) it would reach."""

    alert: Alert
    hits: tuple[RouteHit, ...]
    error: str | None = None


def _split(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def check_alert(
    params: Mapping[str, str], router: Router, ruleset: RuleSet, recent: RecentAlerts
) -> CheckResult | None:
    """Route a recent alert (``alert`` id) or one described by rule, severity, tags, entity.

    Empty severity and tags take the rule's own; nothing is sent, the router only names.
    """
    wanted = params.get("alert", "").strip()
    if wanted:
        for alert in recent:
            if alert.id == wanted:
                return CheckResult(alert, tuple(router.explain(alert)))
        return None
    rule_id = params.get("rule", "").strip()
    if not rule_id:
        return None
    try:
        rule = ruleset.rule(rule_id)
        name, severity, tags = rule.name, rule.severity, rule.tags
    except KeyError:
        name, severity, tags = rule_id, "info", ()
    chosen = params.get("severity", "").strip().lower()
    if chosen in _SEVERITIES:
        severity = chosen  # type: ignore[assignment]
    if typed := _split(params.get("tags", "")):
        tags = typed
    entity = params.get("entity", "").strip() or None
    now = datetime.now(UTC)
    alert = Alert(
        id="alrt_check", rule_id=rule_id, rule_name=name, rule_version="check",
        severity=severity, entity=entity, tags=tags, title=name,
        article=ArticleRef(id="check", title="(routing check)"), created_at=now,
    )
    return CheckResult(alert, tuple(router.explain(alert)))
