"""Turn a rule match into the alerts to emit, remembering what was already said.

Everything is scoped by (rule, entity): all keys of one scope share a prefix, so the worker
that owns that scope's partition owns all of its state. Per scope the store holds:

- the story index (``stories.StoryIndex``): article ids, canonical URLs, body hashes and
  MinHash buckets mapping articles to stories;
- one record per story: articles seen, distinct sources, the thread it belongs to;
- the sliding window of distinct sources (``windows``);
- the current thread: the last ``new`` alert, its severity and the escalation tiers fired.

Semantics (``docs/state.md`` has the worked examples):

1. Idempotency: an article already placed in the scope (same id or same canonical URL)
   gives nothing, whoever processes it again.
2. A story gives at most one ``new`` alert. A scope gives at most one ``new`` alert per
   ``dedup`` window, counted from that alert; a different story arriving inside the window
   is folded into the open thread without an alert of its own.
3. ``new`` fires when the distinct sources in the window reach ``threshold.sources``
   (1 without a threshold; the window is then the dedup window).
4. ``escalation``: while a thread is current, reaching a tier's source count raises the
   severity once per tier, in the same thread; tiers already reached when the thread opens
   raise the first alert's severity instead.
5. ``update``: a later copy that adds a new outlet to the story that opened a thread tells
   that thread the new counts; copies from outlets already counted stay silent.

6. Redelivery: an article that alerted in the scope gives the very same alert again (same id,
   same content) each time it is decided again, so a worker that died between writing the
   state and producing the alert still emits it after the restart, and the delivery ledger
   (keyed by alert id and destination) keeps destinations from seeing it twice. Each
   decision's writes are committed through a journal (``journal``), so a crash half way
   through a decision is repaired before the scope decides anything else.

Every key expires after the last article that touched it: the window and the thread after
``max(dedup, threshold.within)`` (the rule's horizon), the stories after the longer of that and
``story_memory`` (two days by default), so a copy arriving hours after its story alerted still
updates it instead of alerting again.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal

from stream.models import Alert, Article, Match, RulePolicy, Severity, alert_id, severity_rank
from stream.state.canonical import digest, source_of
from stream.state.journal import commit, repair
from stream.state.store import Clock, TTLStore, epoch
from stream.state.stories import DEFAULT_NUM_PERM, DEFAULT_SIMILARITY, StoryIndex, doc_id
from stream.state.windows import observe_source

__all__ = ["DEFAULT_STORY_MEMORY_S", "MAX_STORY_SOURCES", "AlertState", "horizon", "scope_key"]

# Outlets remembered per story; beyond this the count stops growing (and so do updates).
MAX_STORY_SOURCES = 512
# How long a story is remembered after its last copy, whatever the rule's windows.
DEFAULT_STORY_MEMORY_S = 2 * 24 * 3600.0


def scope_key(rule_id: str, entity: str | None) -> str:
    """The key of a (rule, entity) scope: route matches by it so one worker owns a scope."""
    return digest(rule_id, entity or "", size=8)


def _window(policy: RulePolicy) -> float:
    return policy.threshold.within_s if policy.threshold else policy.dedup_s


def horizon(policy: RulePolicy) -> float:
    """How long a scope's entries outlive the last article that touched them, in seconds."""
    return max(policy.dedup_s, _window(policy))


class AlertState:
    """Dedup, story clustering, thresholds and escalation over a JSON-valued mapping.

    ``store`` may be a plain ``dict`` (tests, dry-run replays: production state stays
    untouched) or a Faust table; values written are JSON-serialisable and never mutated in
    place. ``story_memory_s`` bounds how long a quiet story is remembered; ``clock`` supplies
    ``now`` when a call omits it.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        similarity: float = DEFAULT_SIMILARITY,
        num_perm: int = DEFAULT_NUM_PERM,
        story_memory_s: float = DEFAULT_STORY_MEMORY_S,
        clock: Clock | None = None,
    ) -> None:
        self._story_memory = story_memory_s
        self._store = TTLStore(store)
        self._stories = StoryIndex(self._store, similarity=similarity, num_perm=num_perm)
        self._clock = clock or (lambda: datetime.now(UTC))

    def sweep(
        self, now: datetime | None = None, *, scopes: Callable[[str], bool] | None = None
    ) -> int:
        """Delete entries expired at ``now``; returns how many went. Call it periodically.

        ``scopes``, given a scope key (:func:`scope_key`), says whether this sweep may delete
        that scope's entries; on a Faust table, pass the scopes of the partition whose event
        is being processed, so each deletion reaches the changelog partition holding the key.
        """
        accept = None if scopes is None else (lambda key: scopes(key.split(":", 1)[0]))
        return self._store.sweep(epoch(now or self._clock()), accept)

    def decide(self, match: Match, article: Article, now: datetime | None = None) -> list[Alert]:
        """The alerts ``match`` on ``article`` gives at ``now``: none, or exactly one.

        Deciding an article again gives again the alert it gave the first time, unchanged.
        """
        moment = now or self._clock()
        t = epoch(moment)
        prefix = f"{scope_key(match.rule_id, match.entity)}:"
        repair(self._store, prefix, t)
        doc = doc_id(article)
        said = self._store.get(f"{prefix}a:{doc}", t)
        if isinstance(said, dict):
            return [Alert.model_validate(said)]

        remember = t + max(horizon(match.policy), self._story_memory)
        self._store.stage()
        try:
            alerts = self._decide(match, article, moment, prefix, remember)
            if alerts:
                said = alerts[0].model_dump(mode="json")
                self._store.put(f"{prefix}a:{doc}", said, remember)
        finally:
            writes = self._store.staged()
        if writes:
            commit(self._store, prefix, writes, f"{prefix}d:{doc}", remember)
        return alerts

    def _decide(
        self, match: Match, article: Article, moment: datetime, prefix: str, remember: float
    ) -> list[Alert]:
        t = epoch(moment)
        policy = match.policy
        expires = t + horizon(policy)
        placement = self._stories.place(prefix, article, t, remember)
        if placement.seen:
            return []

        story_key = f"{prefix}s:{placement.story_id}"
        story = dict(self._store.get(story_key, t) or {})
        sources = list(story.get("src", []))
        source = source_of(article)
        if source not in sources and len(sources) < MAX_STORY_SOURCES:
            sources.append(source)
        story["src"] = sources
        story["n"] = int(story.get("n", 0)) + 1

        count = observe_source(self._store, f"{prefix}w", source, t, _window(policy))
        thread_key = f"{prefix}t"
        thread = self._store.get(thread_key, t)
        thread = dict(thread) if isinstance(thread, dict) else None

        kind: Literal["new", "escalation", "update"] | None = None
        severity: Severity = match.severity
        # 1. A story not yet in a thread folds into the open one, or opens its own.
        if story.get("thr") is None:
            if thread is not None and t < float(thread["opened"]) + policy.dedup_s:
                story["thr"] = thread["id"]
            elif count >= (policy.threshold.sources if policy.threshold else 1):
                kind = "new"
                reached = _reached(policy, count, [])
                severity = _raise(match.severity, reached)
                thread = {
                    "id": alert_id(match.rule_id, match.entity, article.id),
                    "opened": t,
                    "sev": severity,
                    "fired": [i for i, _ in reached],
                }
                story.update(thr=thread["id"], lead=True, sev=severity)

        # 2. Otherwise the current thread may escalate, whichever of its stories grew.
        if kind is None and thread is not None and story.get("thr") == thread["id"]:
            fresh = _reached(policy, count, list(thread.get("fired", [])))
            if fresh:
                thread["fired"] = sorted({*thread.get("fired", []), *(i for i, _ in fresh)})
                raised = _raise(thread["sev"], fresh)
                if severity_rank(raised) > severity_rank(thread["sev"]):
                    kind, severity, thread["sev"] = "escalation", raised, raised

        # 3. Otherwise a thread's own story tells it about a new outlet.
        if kind is None and story.get("lead") and len(sources) > int(story.get("told", 0)):
            kind = "update"
            current = thread if thread is not None and thread["id"] == story["thr"] else story
            severity = current["sev"]

        if kind is not None and story.get("lead"):
            story["told"] = len(sources)
        self._store.put(story_key, story, remember)
        if thread is not None:
            self._store.put(thread_key, thread, max(expires, self._store.expires(thread_key) or 0))
        if kind is None:
            return []
        alert = Alert.from_match(match, article, now=moment).model_copy(
            update={
                "kind": kind,
                "severity": severity,
                "story_id": placement.story_id,
                "story_articles": story["n"],
                "story_sources": len(sources),
                "thread_id": story["thr"],
            }
        )
        return [alert]


def _reached(policy: RulePolicy, count: int, fired: list[int]) -> list[tuple[int, Severity]]:
    """Escalation tiers (index, severity) reached at ``count`` and not fired yet."""
    return [
        (index, tier.severity)
        for index, tier in enumerate(policy.escalate)
        if count >= tier.sources and index not in fired
    ]


def _raise(severity: Severity, tiers: list[tuple[int, Severity]]) -> Severity:
    """The highest of ``severity`` and the tiers' severities."""
    return max([severity, *(s for _, s in tiers)], key=severity_rank)
