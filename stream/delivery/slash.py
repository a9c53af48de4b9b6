"""The ``/newsalert`` Slack slash command: channels subscribe themselves.

The handler is pure (headers, body bytes and the current time in, a response out) so the web
server that hosts it stays a few lines and the signature rules are tested without HTTP. A
request whose signature is wrong or older than five minutes gets 401 and changes nothing.
Subscriptions are stored per channel in an injected mapping (a table over a compacted topic in
the worker), which the router reads, so every worker sees them and they survive restarts.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, MutableMapping
from typing import Any, get_args
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from stream.delivery.subscriptions import DynamicSubscription, Filter
from stream.models import Severity

__all__ = [
    "MAX_FILTERS_PER_CHANNEL",
    "SlashHandler",
    "SlashResponse",
    "handle_slash",
    "parse_filter",
]

MAX_FILTERS_PER_CHANNEL = 25

USAGE = (
    "Usage: `/newsalert subscribe [tag:T] [rule:GLOB] [entity:NAME] [min:SEVERITY]`, "
    "`/newsalert unsubscribe <same filter>|all`, `/newsalert list`. "
    "Severities: " + ", ".join(get_args(Severity)) + "."
)


class SlashResponse(BaseModel):
    """HTTP status and JSON body to return to Slack."""

    model_config = ConfigDict(frozen=True)

    status: int
    body: dict[str, Any]


class SlashUsageError(ValueError):
    """A command the user typed is not understood; the message is shown to them."""


def _reply(text: str, status: int = 200) -> SlashResponse:
    return SlashResponse(status=status, body={"response_type": "ephemeral", "text": text})


_KEYS = {"tag": "tags", "rule": "rules", "entity": "entities"}


def parse_filter(words: list[str]) -> Filter:
    """``tag:csto min:high`` -> ``Filter``; repeated keys accumulate (any of)."""
    fields: dict[str, list[str]] = {"tags": [], "rules": [], "entities": []}
    severity: str | None = None
    for word in words:
        key, sep, value = word.partition(":")
        key = key.lower()
        if not sep or not value:
            raise SlashUsageError(f"`{word}` is not key:value")
        if key in ("min", "severity"):
            if value.lower() not in get_args(Severity):
                raise SlashUsageError(f"unknown severity `{value}`")
            severity = value.lower()
        elif key in _KEYS:
            fields[_KEYS[key]].append(value)
        else:
            raise SlashUsageError(f"unknown filter `{key}:`")
    data: dict[str, Any] = {k: tuple(v) for k, v in fields.items()}
    if severity is not None:
        data["min_severity"] = severity
    return Filter.model_validate(data)


class _At(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


class SlashHandler:
    """Verifies and executes slash commands against the subscriptions ``store``."""

    def __init__(self, signing_secret: str, store: MutableMapping[str, Any]) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self._secret = signing_secret
        self.store = store

    def _verified(self, headers: Mapping[str, str], body: bytes, now: float) -> bool:
        verifier = SignatureVerifier(self._secret, clock=_At(now))
        try:
            return verifier.is_valid_request(body, dict(headers))
        except (TypeError, ValueError):  # e.g. a timestamp that is not a number
            return False

    def handle(self, headers: Mapping[str, str], body: bytes, now: float) -> SlashResponse:
        if not self._verified(headers, body, now):
            return _reply("invalid or stale request signature", status=401)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("ssl_check"):
            return SlashResponse(status=200, body={})
        channel = form.get("channel_id")
        if not channel:
            return _reply("no channel_id in the request", status=400)
        try:
            words = shlex.split(form.get("text", ""))
        except ValueError:
            return _reply(f"unbalanced quotes. {USAGE}")
        if not words or words[0].lower() == "help":
            return _reply(USAGE)
        verb, args = words[0].lower(), words[1:]
        try:
            if verb == "subscribe":
                return self._subscribe(channel, form.get("user_id"), args, now)
            if verb == "unsubscribe":
                return self._unsubscribe(channel, form.get("user_id"), args, now)
            if verb == "list":
                return self._list(channel)
        except SlashUsageError as exc:
            return _reply(f"{exc}. {USAGE}")
        return _reply(f"unknown command `{verb}`. {USAGE}")

    def _current(self, channel: str) -> DynamicSubscription:
        raw = self.store.get(channel)
        if raw is not None:
            try:
                return DynamicSubscription.model_validate(raw)
            except ValidationError:
                pass
        return DynamicSubscription(channel=channel)

    def _save(self, sub: DynamicSubscription) -> None:
        if sub.filters:
            self.store[sub.channel] = sub.model_dump(mode="json")
        elif sub.channel in self.store:
            del self.store[sub.channel]

    def _subscribe(
        self, channel: str, user: str | None, args: list[str], now: float
    ) -> SlashResponse:
        new = parse_filter(args)
        sub = self._current(channel)
        if new in sub.filters:
            return _reply(f"already subscribed to {new.describe()}")
        if len(sub.filters) >= MAX_FILTERS_PER_CHANNEL:
            return _reply(f"this channel has {MAX_FILTERS_PER_CHANNEL} subscriptions; remove one")
        self._save(
            sub.model_copy(
                update={"filters": (*sub.filters, new), "updated_by": user, "updated_at": now}
            )
        )
        return _reply(f"subscribed this channel to {new.describe()}")

    def _unsubscribe(
        self, channel: str, user: str | None, args: list[str], now: float
    ) -> SlashResponse:
        sub = self._current(channel)
        if args == ["all"]:
            self._save(sub.model_copy(update={"filters": ()}))
            return _reply(f"removed all {len(sub.filters)} subscriptions of this channel")
        old = parse_filter(args)
        if old not in sub.filters:
            return _reply(f"no subscription {old.describe()}; see `/newsalert list`")
        kept = tuple(f for f in sub.filters if f != old)
        self._save(sub.model_copy(update={"filters": kept, "updated_by": user, "updated_at": now}))
        return _reply(f"unsubscribed this channel from {old.describe()}")

    def _list(self, channel: str) -> SlashResponse:
        sub = self._current(channel)
        if not sub.filters:
            return _reply("this channel has no subscriptions")
        lines = [f"{i}. {f.describe()}" for i, f in enumerate(sub.filters, 1)]
        return _reply("this channel is subscribed to:\n" + "\n".join(lines))


def handle_slash(
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    *,
    signing_secret: str,
    store: MutableMapping[str, Any],
) -> SlashResponse:
    """One-shot form of :class:`SlashHandler` for callers that keep no handler object."""
    return SlashHandler(signing_secret, store).handle(headers, body, now)
