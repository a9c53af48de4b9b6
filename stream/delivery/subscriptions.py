"""The subscriptions file: which destinations exist and which alerts each one wants.

Validated like rule files: pydantic models with ``extra="forbid"`` and every problem reported
as ``file:line:column: message`` (positions from ruamel.yaml), so a typo in a route names the
line to fix instead of silently routing nothing. Secrets never live in this file: a webhook
names the environment variable that holds its secret.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from stream.errors import ConfigError, Problem
from stream.models import Alert, Severity, severity_rank

__all__ = [
    "ConsoleDestination",
    "Destination",
    "DynamicSubscription",
    "Filter",
    "Route",
    "SlackDestination",
    "Subscriptions",
    "SubscriptionsError",
    "WebhookDestination",
    "load_subscriptions",
    "parse_subscriptions",
]


class SubscriptionsError(ConfigError):
    """A subscriptions file was rejected; ``problems`` lists each error with file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid subscriptions")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filter(_Model):
    """Which alerts a subscriber wants. Within a field any value matches; fields combine with AND.

    An empty field does not constrain, so an empty filter takes every alert.
    """

    rules: tuple[str, ...] = Field(default=(), description="Rule id globs (fnmatch), e.g. csto.*")
    tags: tuple[str, ...] = Field(default=(), description="Any of these tags (case-insensitive).")
    entities: tuple[str, ...] = Field(default=(), description="Any of these entities.")
    min_severity: Severity = Field(default="info", description="Lowest severity delivered.")

    def matches(self, alert: Alert) -> bool:
        if severity_rank(alert.severity) < severity_rank(self.min_severity):
            return False
        if self.rules and not any(fnmatch.fnmatchcase(alert.rule_id, g) for g in self.rules):
            return False
        if self.tags:
            have = {t.casefold() for t in alert.tags}
            if not any(t.casefold() in have for t in self.tags):
                return False
        if self.entities:
            entity = (alert.entity or "").casefold()
            if not any(e.casefold() == entity for e in self.entities):
                return False
        return True

    def describe(self) -> str:
        """The filter in the slash command's own syntax, so users can copy it back."""
        parts = [f"rule:{r}" for r in self.rules] + [f"tag:{t}" for t in self.tags]
        parts += [f'entity:"{e}"' if " " in e else f"entity:{e}" for e in self.entities]
        if self.min_severity != "info":
            parts.append(f"min:{self.min_severity}")
        return " ".join(parts) or "(everything)"


class SlackDestination(_Model):
    """A Slack channel, posted to with the bot token (``NEWSALERT_SLACK_TOKEN`` by default)."""

    type: Literal["slack"]
    channel: str = Field(min_length=1)
    token_env: str | None = Field(default=None, description="Env var holding another bot token.")
    min_interval_s: float = Field(default=1.0, ge=0, le=60, description="Pacing between messages.")


class WebhookDestination(_Model):
    """An HTTPS endpoint receiving signed alert JSON."""

    type: Literal["webhook"]
    url: str = Field(min_length=1)
    secret_env: str | None = Field(default=None, description="Env var holding the whsec_ secret.")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    allow_private: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://)")
        return value


class ConsoleDestination(_Model):
    """The worker's terminal."""

    type: Literal["console"]


Destination = Annotated[
    SlackDestination | WebhookDestination | ConsoleDestination, Field(discriminator="type")
]


class Route(Filter):
    """Send matching alerts to the listed destinations."""

    name: str | None = None
    to: tuple[str, ...] = Field(min_length=1)


class Subscriptions(_Model):
    """A whole subscriptions file; every route delivers to all its destinations (union)."""

    version: Literal[1] = 1
    destinations: dict[str, Destination] = Field(default_factory=dict)
    routes: tuple[Route, ...] = ()


class DynamicSubscription(_Model):
    """Filters one Slack channel asked for with the slash command; a table value as JSON."""

    channel: str
    filters: tuple[Filter, ...] = ()
    updated_by: str | None = None
    updated_at: float | None = None


_yaml = YAML(typ="rt")


def _position(root: Any, loc: Sequence[int | str]) -> tuple[int, int]:
    """Best line/column (1-based) for a pydantic error location inside the YAML tree."""
    node, line, col = root, 0, 0
    if isinstance(root, CommentedMap | CommentedSeq):
        line, col = root.lc.line, root.lc.col
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        # Otherwise (a union tag, a missing key) keep the closest enclosing position.
    return line + 1, col + 1


_FIELDS: dict[str, set[str]] = {
    "root": set(Subscriptions.model_fields),
    "route": set(Route.model_fields),
    "slack": set(SlackDestination.model_fields),
    "webhook": set(WebhookDestination.model_fields),
    "console": set(ConsoleDestination.model_fields),
}


def _hint(error: Any) -> str:
    message = str(error["msg"])
    loc = error["loc"]
    if error["type"] != "extra_forbidden" or not loc:
        return message
    key = str(loc[-1])
    if key in ("secret", "token", "password"):
        return f"unknown key {key!r}: never put secrets here; name an env var with {key}_env"
    known = set().union(*_FIELDS.values())
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def parse_subscriptions(text: str, file: str = "<subscriptions>") -> Subscriptions:
    """Parse and validate a subscriptions document; raise ``SubscriptionsError`` on problems."""
    try:
        root = _yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SubscriptionsError([Problem(file, line, col, f"YAML: {exc.problem}")]) from exc
    if root is None:
        root = CommentedMap()
    try:
        subs = Subscriptions.model_validate(root)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            line, col = _position(root, error["loc"])
            where = ".".join(str(p) for p in error["loc"])
            problems.append(Problem(file, line, col, f"{where}: {_hint(error)}"))
        raise SubscriptionsError(problems) from exc
    problems = []
    for i, route in enumerate(subs.routes):
        for j, name in enumerate(route.to):
            if name not in subs.destinations:
                close = difflib.get_close_matches(name, list(subs.destinations), n=1)
                line, col = _position(root, ("routes", i, "to", j))
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    Problem(file, line, col, f"route sends to unknown destination {name!r}{hint}")
                )
    if problems:
        raise SubscriptionsError(problems)
    return subs


def load_subscriptions(path: Path) -> Subscriptions:
    """Read ``path``; a missing file is a ``ConfigError`` that names it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read subscriptions file: {exc.strerror}") from exc
    return parse_subscriptions(text, file=str(path))
