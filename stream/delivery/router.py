"""Routing: from an alert to the names of the destinations that want it.

Routing is kept apart from sending (as Alertmanager does): the router only names
destinations, :class:`SinkSet` turns names into sinks, and dispatch delivers. Three sources of
subscriptions are merged: the subscriptions file, the ``NEWSALERT_*`` shorthand (each
configured Slack channel / webhook URL / the console takes every alert) and the channels that
subscribed themselves with the Slack slash command (a table every worker shares).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stream.delivery.base import Sink
from stream.delivery.console import ConsoleSink
from stream.delivery.slack import SlackSink, make_client
from stream.delivery.subscriptions import (
    ConsoleDestination,
    Destination,
    DynamicSubscription,
    Route,
    SlackDestination,
    Subscriptions,
    WebhookDestination,
    load_subscriptions,
)
from stream.delivery.webhook import WebhookSink
from stream.errors import ConfigError
from stream.models import Alert
from stream.settings import Settings

__all__ = [
    "CONSOLE",
    "RouteHit",
    "Router",
    "SinkSet",
    "build_router",
    "build_sinks",
    "dynamic_name",
    "merge_shorthand",
]

log = logging.getLogger(__name__)

CONSOLE = "console"
_DYNAMIC_PREFIX = "slack:"
_WEBHOOK_SECRET_ENV = "NEWSALERT_WEBHOOK_SECRET"


def dynamic_name(channel: str) -> str:
    """Destination name of a channel subscribed through the slash command."""
    return f"{_DYNAMIC_PREFIX}{channel}"


@dataclass(frozen=True, slots=True)
class RouteHit:
    """One destination an alert reaches and the route that sent it there (for ``test``)."""

    destination: str
    via: str


class Router:
    """Names the destinations of an alert; the file part can be swapped on hot reload."""

    def __init__(
        self, subscriptions: Subscriptions, dynamic: Mapping[str, Any] | None = None
    ) -> None:
        self.subscriptions = subscriptions
        self._dynamic = dynamic

    def reload(self, subscriptions: Subscriptions) -> None:
        """Swap in a re-read subscriptions file; in-flight routing keeps the old one."""
        self.subscriptions = subscriptions

    def dynamic_subscriptions(self) -> list[DynamicSubscription]:
        """Slash-command subscriptions, skipping (and logging) values that no longer parse."""
        if self._dynamic is None:
            return []
        subs: list[DynamicSubscription] = []
        for key in sorted(self._dynamic):
            try:
                subs.append(DynamicSubscription.model_validate(self._dynamic[key]))
            except (ValidationError, KeyError) as exc:
                log.warning("ignoring unreadable slash subscription %r: %s", key, exc)
        return subs

    def explain(self, alert: Alert) -> list[RouteHit]:
        """Every (destination, route) pair that matches, in file order, then slash channels."""
        hits: list[RouteHit] = []
        for index, route in enumerate(self.subscriptions.routes):
            if route.matches(alert):
                via = route.name or f"routes[{index}]"
                hits.extend(RouteHit(name, via) for name in route.to)
        for sub in self.dynamic_subscriptions():
            for filt in sub.filters:
                if filt.matches(alert):
                    hits.append(RouteHit(dynamic_name(sub.channel), f"slash: {filt.describe()}"))
        return hits

    def route(self, alert: Alert) -> list[str]:
        """Destination names for ``alert``, each once, in a stable order."""
        return list(dict.fromkeys(hit.destination for hit in self.explain(alert)))


def merge_shorthand(subscriptions: Subscriptions, settings: Settings) -> Subscriptions:
    """Add a catch-all route for each destination given through ``NEWSALERT_*`` settings."""
    destinations: dict[str, Destination] = dict(subscriptions.destinations)
    extra: list[str] = []

    def add(name: str, dest: Destination) -> None:
        if name not in destinations:
            destinations[name] = dest
        extra.append(name)

    for channel in settings.slack_channels:
        add(
            f"slack:{channel}",
            SlackDestination(
                type="slack", channel=channel, min_interval_s=settings.slack_min_interval_s
            ),
        )
    for url in settings.webhook_urls:
        add(
            f"webhook:{url}",
            WebhookDestination(
                type="webhook",
                url=url,
                secret_env=_WEBHOOK_SECRET_ENV if settings.webhook_secret else None,
                allow_private=settings.allow_private_destinations,
            ),
        )
    if settings.console_alerts:
        add(CONSOLE, ConsoleDestination(type="console"))
    if not extra:
        return subscriptions
    catch_all = Route(name="settings (NEWSALERT_*)", to=tuple(dict.fromkeys(extra)))
    return Subscriptions(destinations=destinations, routes=(*subscriptions.routes, catch_all))


def build_router(
    settings: Settings,
    subscriptions_file: Path | None,
    dynamic: Mapping[str, Any] | None = None,
) -> Router:
    """The router the worker uses: file routes, then settings shorthand, then slash channels."""
    subs = load_subscriptions(subscriptions_file) if subscriptions_file else Subscriptions()
    return Router(merge_shorthand(subs, settings), dynamic)


def _secret(env_name: str, settings: Settings) -> str:
    value = os.environ.get(env_name)
    if value is None and env_name == _WEBHOOK_SECRET_ENV:
        value = settings.webhook_secret
    if not value:
        raise ConfigError(f"environment variable {env_name} (a webhook secret) is not set")
    return value


class SinkSet(Mapping[str, Sink]):
    """Destination name -> sink, built on first use from the current subscriptions.

    Building lazily lets slash-command channels (not known at start) and hot-reloaded files
    get sinks without restarting; a sink is rebuilt only when its definition changed.
    """

    def __init__(self, settings: Settings, subscriptions: Subscriptions) -> None:
        self._settings = settings
        self._subscriptions = subscriptions
        self._built: dict[str, tuple[Destination, Sink]] = {}
        for name in subscriptions.destinations:  # fail fast on bad secrets or URLs
            self[name]

    def update(self, subscriptions: Subscriptions) -> list[Sink]:
        """Swap definitions; returns the sinks made stale so the caller can close them."""
        self._subscriptions = subscriptions
        stale = [
            sink
            for name, (dest, sink) in self._built.items()
            if subscriptions.destinations.get(name) != dest
        ]
        self._built = {
            name: built
            for name, built in self._built.items()
            if subscriptions.destinations.get(name) == built[0]
        }
        return stale

    def _definition(self, name: str) -> Destination | None:
        dest = self._subscriptions.destinations.get(name)
        if dest is None and name.startswith(_DYNAMIC_PREFIX):
            channel = name[len(_DYNAMIC_PREFIX) :]
            dest = SlackDestination(
                type="slack", channel=channel, min_interval_s=self._settings.slack_min_interval_s
            )
        return dest

    def _build(self, name: str, dest: Destination) -> Sink:
        settings = self._settings
        if isinstance(dest, SlackDestination):
            token = os.environ.get(dest.token_env) if dest.token_env else settings.slack_token
            if not token:
                which = dest.token_env or "NEWSALERT_SLACK_TOKEN"
                raise ConfigError(f"destination {name!r}: Slack token {which} is not set")
            client = make_client(token, settings.slack_api_url)
            return SlackSink(name, dest.channel, client, min_interval_s=dest.min_interval_s)
        if isinstance(dest, WebhookDestination):
            return WebhookSink(
                name,
                dest.url,
                secret=_secret(dest.secret_env, settings) if dest.secret_env else None,
                headers=dest.headers,
                timeout_s=dest.timeout_s,
                allow_private=dest.allow_private or settings.allow_private_destinations,
            )
        return ConsoleSink(name)

    def __getitem__(self, name: str) -> Sink:
        dest = self._definition(name)
        if dest is None:
            raise KeyError(name)
        built = self._built.get(name)
        if built is None or built[0] != dest:
            built = (dest, self._build(name, dest))
            self._built[name] = built
        return built[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._subscriptions.destinations)

    def __len__(self) -> int:
        return len(self._subscriptions.destinations)

    async def aclose(self) -> None:
        """Close every sink built so far (HTTP clients)."""
        for _, sink in self._built.values():
            await sink.aclose()


def build_sinks(settings: Settings, subscriptions: Subscriptions) -> SinkSet:
    """Sinks for ``subscriptions`` (use ``router.subscriptions``, which includes shorthand)."""
    return SinkSet(settings, subscriptions)
