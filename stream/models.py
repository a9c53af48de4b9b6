"""Wire formats: what crosses a topic, a webhook or the CLI.

All models are frozen pydantic models. ``Alert`` carries ``schema_version`` so receivers can
evolve with us; adding optional fields is a minor change, renaming or removing one bumps the
version.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ALERT_SCHEMA_VERSION",
    "SEVERITIES",
    "Alert",
    "Article",
    "ArticleRef",
    "EscalationTier",
    "Evidence",
    "Match",
    "MatchRecord",
    "RulePolicy",
    "Severity",
    "Threshold",
    "alert_id",
    "severity_rank",
]

ALERT_SCHEMA_VERSION = 1

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: Severity) -> int:
    """Order severities so filters can say "at least high"."""
    return SEVERITIES.index(severity)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Article(_Frozen):
    """A news article as published on the articles topic."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=512)
    title: str
    body: str
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language: str | None = "en"

    @field_validator("title", "body")
    @classmethod
    def _text_is_text(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        return value


class Evidence(_Frozen):
    """Why a rule fired: one matched term, where it was found and a snippet around it."""

    field: Literal["title", "body"]
    term: str
    text: str
    start: int
    end: int
    snippet: str


class Threshold(_Frozen):
    """Fire only once ``sources`` distinct outlets reported matching stories ``within`` seconds."""

    sources: int = Field(ge=1)
    within_s: float = Field(gt=0)


class EscalationTier(_Frozen):
    """After the first alert, raise severity once ``sources`` distinct outlets are reached."""

    sources: int = Field(ge=2)
    severity: Severity


class RulePolicy(_Frozen):
    """The stateful part of a rule (dedup, corroboration, escalation), read by ``stream.state``."""

    dedup_s: float = Field(6 * 3600, gt=0)
    threshold: Threshold | None = None
    escalate: tuple[EscalationTier, ...] = ()


class _Firing(_Frozen):
    """What a rule firing says, shared by the engine's ``Match`` and the wire ``Alert``."""

    rule_id: str
    rule_name: str
    rule_version: str
    severity: Severity
    entity: str | None
    tags: tuple[str, ...] = ()
    cameo: tuple[str, ...] = ()
    title: str
    text: str = ""
    evidence: tuple[Evidence, ...] = ()


class Match(_Firing):
    """What the pure engine returns for one rule firing on one article."""

    policy: RulePolicy = RulePolicy()


class ArticleRef(_Frozen):
    """The part of an article an alert repeats, so receivers need not look it up."""

    id: str
    title: str
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None

    @classmethod
    def of(cls, article: Article) -> ArticleRef:
        return cls(
            id=article.id,
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
        )


def alert_id(rule_id: str, entity: str | None, article_id: str) -> str:
    """Deterministic id: the same rule, entity and article always give the same alert id."""
    digest = hashlib.sha256(f"{rule_id}\x1f{entity or ''}\x1f{article_id}".encode()).hexdigest()
    return f"alrt_{digest[:32]}"


class Alert(_Firing):
    """An alert as written to the alerts topic and posted to webhooks (schema version 1)."""

    schema_version: int = ALERT_SCHEMA_VERSION
    id: str
    article: ArticleRef
    created_at: datetime
    story_id: str | None = None
    story_articles: int = 1
    story_sources: int = 1
    thread_id: str | None = None
    kind: Literal["new", "escalation", "update"] = "new"
    replayed: bool = False

    @classmethod
    def from_match(
        cls, match: Match, article: Article, *, now: datetime | None = None
    ) -> Alert:
        """Build the alert for ``match`` on ``article``; ``now`` is injectable for tests."""
        ident = alert_id(match.rule_id, match.entity, article.id)
        return cls(
            **match.model_dump(exclude={"policy"}),
            id=ident,
            article=ArticleRef.of(article),
            created_at=now or datetime.now(UTC),
            thread_id=ident,
        )


class MatchRecord(_Frozen):
    """Internal wire format of the matches topic: a match with the article it came from."""

    match: Match
    article: Article
