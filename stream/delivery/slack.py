"""Slack destination: Block Kit messages through slack-sdk's async Web API client.

The message is built by pure functions (:func:`build_payload`, :func:`build_reply_payload`) so
its layout and Slack's size limits are tested without a network. Follow-ups to a story
(``kind`` escalation/update) are posted in the thread of the first message and the parent is
re-rendered with a follow-up counter, so a channel shows one line per story, not one per source.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from stream.delivery.base import Receipt
from stream.errors import DeliveryError
from stream.models import Alert, Severity

__all__ = [
    "BLOCKS_MAX",
    "HEADER_TEXT_MAX",
    "SECTION_TEXT_MAX",
    "SlackMessage",
    "SlackSink",
    "build_payload",
    "build_reply_payload",
    "make_client",
    "map_slack_error",
]

log = logging.getLogger(__name__)

# Slack's documented Block Kit limits.
BLOCKS_MAX = 50
HEADER_TEXT_MAX = 150
SECTION_TEXT_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
CONTEXT_TEXT_MAX = 2000
FALLBACK_TEXT_MAX = 3000
URL_MAX = 3000

SNIPPETS_MAX = 5
ELLIPSIS = "…"
# Look-alikes for characters mrkdwn would read as markup inside user text.
_STAR = "\u2217"
_BAR = "\u2223"

_EMOJI: Mapping[Severity, str] = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":large_blue_circle:",
    "info": ":white_circle:",
}

# Errors Slack reports with ok=false that a later attempt can get past.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """The arguments of one ``chat.postMessage`` / ``chat.update`` call."""

    text: str
    blocks: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def blocks_list(self) -> list[dict[str, Any]]:
        return [dict(b) for b in self.blocks]


def _fit(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending on a word where possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves; neutralise stray bold markers."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", _STAR)


def _link(url: str | None, label: str) -> str:
    """A mrkdwn link, or the plain label when the URL is missing, odd or too long."""
    safe_label = _escape(label).replace("|", _BAR)
    if not url or not url.startswith(("http://", "https://")) or len(url) > URL_MAX:
        return safe_label
    safe_url = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe_url}|{safe_label}>"


def _embolden(snippet: str, needles: Iterable[str]) -> str:
    """Escape ``snippet`` and wrap every occurrence of a matched term in ``*bold*``."""
    words = sorted({n for n in needles if n.strip()}, key=len, reverse=True)
    if not words:
        return _escape(snippet)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(snippet):
        out.append(_escape(snippet[pos : m.start()]))
        out.append(f"*{_escape(m.group(0))}*")
        pos = m.end()
    out.append(_escape(snippet[pos:]))
    return "".join(out)


def _snippet_blocks(alert: Alert, limit: int) -> list[dict[str, Any]]:
    needles = [e.text for e in alert.evidence] + [e.term for e in alert.evidence]
    seen: list[str] = []
    for ev in alert.evidence:
        if ev.snippet and ev.snippet not in seen:
            seen.append(ev.snippet)
    blocks: list[dict[str, Any]] = []
    for snippet in seen[:limit]:
        # Cut the raw text first so truncation never splits a bold marker or an entity.
        raw = _fit(snippet.strip(), SECTION_TEXT_MAX - 200)
        blocks.append(_section(f">{_embolden(raw, needles)}"))
    if len(seen) > limit:
        blocks.append(_context([f"+{len(seen) - limit} more snippets"]))
    return blocks


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(mrkdwn, SECTION_TEXT_MAX)}}


def _context(items: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": _fit(item, CONTEXT_TEXT_MAX)}
            for item in items[:CONTEXT_ELEMENTS_MAX]
        ],
    }


def _story(alert: Alert) -> str:
    articles = "article" if alert.story_articles == 1 else "articles"
    sources = "source" if alert.story_sources == 1 else "sources"
    return f"{alert.story_articles} {articles} from {alert.story_sources} {sources}"


def _subject(alert: Alert) -> str:
    return alert.entity or alert.rule_name


def _fallback(alert: Alert) -> str:
    return _fit(f"[{alert.severity.upper()}] {_subject(alert)}: {alert.title}", FALLBACK_TEXT_MAX)


def _cap_blocks(blocks: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    if len(blocks) <= BLOCKS_MAX:
        return tuple(blocks)
    kept = blocks[: BLOCKS_MAX - 1]
    kept.append(_context([f"{len(blocks) - len(kept)} more blocks omitted"]))
    return tuple(kept)


def build_payload(
    alert: Alert,
    *,
    replies: int = 0,
    latest: Alert | None = None,
    max_snippets: int = SNIPPETS_MAX,
) -> SlackMessage:
    """The top-level message of an alert; with ``replies`` it becomes the thread's parent.

    ``latest`` is the newest follow-up, summarised in the counter line so a reader sees the
    story's current severity and size without opening the thread.
    """
    header = f"{_EMOJI[alert.severity]} {alert.severity.upper()} · {_subject(alert)}"
    headline = f"*{_link(alert.article.url, _fit(alert.title, 500))}*"
    if alert.text and alert.text != alert.title:
        headline += "\n" + _escape(_fit(alert.text, SECTION_TEXT_MAX - 800))
    facts = [
        f"*Rule:* {_escape(_fit(alert.rule_name, 300))} (`{_escape(_fit(alert.rule_id, 200))}`)",
        f"*Source:* {_escape(alert.article.source or 'unknown')}",
        f"*Story:* {_story(alert)}",
    ]
    if alert.tags:
        facts.append("*Tags:* " + _escape(_fit(", ".join(alert.tags), 500)))
    if alert.replayed:
        facts.append("_replayed_")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _fit(header, HEADER_TEXT_MAX)}},
        _section(headline),
        _context(facts),
        *_snippet_blocks(alert, max_snippets),
    ]
    if replies:
        noun = "follow-up" if replies == 1 else "follow-ups"
        counter = f":thread: *{replies} {noun}* in thread"
        if latest is not None:
            counter += f" · now {latest.severity.upper()} · {_story(latest)}"
        blocks.append(_context([counter]))
    return SlackMessage(text=_fallback(alert), blocks=_cap_blocks(blocks))


def build_reply_payload(alert: Alert, *, max_snippets: int = 3) -> SlackMessage:
    """A follow-up posted in the parent's thread: what changed, and the new article."""
    what = "Escalated" if alert.kind == "escalation" else "New report"
    link = _link(alert.article.url, _fit(alert.title, 500))
    lead = (
        f"{_EMOJI[alert.severity]} *{what}* · {alert.severity.upper()} · "
        f"{_escape(_fit(_subject(alert), 200))}\n*{link}*"
    )
    facts = [f"*Source:* {_escape(alert.article.source or 'unknown')}", f"*Story:* {_story(alert)}"]
    blocks = [_section(lead), _context(facts), *_snippet_blocks(alert, max_snippets)]
    return SlackMessage(text=_fallback(alert), blocks=_cap_blocks(blocks))


def _status_of(response: Any) -> int | None:
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    try:
        return max(float(headers.get("Retry-After", "1")), 0.0)
    except (TypeError, ValueError):
        return 1.0


def map_slack_error(exc: BaseException) -> DeliveryError:
    """Turn what slack-sdk or the network raised into a retryable / final ``DeliveryError``."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = _status_of(response)
        data = getattr(response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        if status == 429 or error == "ratelimited":
            return DeliveryError(
                f"slack rate limited (HTTP {status})",
                retryable=True,
                retry_after=_retry_after(response),
            )
        if status is not None and status >= 500:
            return DeliveryError(f"slack server error (HTTP {status})", retryable=True)
        if error in _TRANSIENT_ERRORS:
            return DeliveryError(f"slack error {error}", retryable=True)
        return DeliveryError(f"slack refused: {error or status}", retryable=False)
    if isinstance(exc, TimeoutError | aiohttp.ClientError | OSError):
        return DeliveryError(f"slack unreachable: {type(exc).__name__}: {exc}", retryable=True)
    if isinstance(exc, SlackClientError):
        return DeliveryError(f"slack client error: {exc}", retryable=False)
    return DeliveryError(f"slack failed: {type(exc).__name__}: {exc}", retryable=False)


def make_client(token: str, base_url: str, *, timeout_s: int = 10) -> AsyncWebClient:
    """An ``AsyncWebClient`` with its own retries off: dispatch is the one place that retries."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout_s, retry_handlers=[])


class SlackSink:
    """Posts alerts to one Slack channel; threads follow-ups and keeps the parent's counter."""

    def __init__(
        self, name: str, channel: str, client: AsyncWebClient, *, min_interval_s: float = 1.0
    ) -> None:
        self._name = name
        self.channel = channel
        self._client = client
        self._min_interval_s = min_interval_s

    @property
    def name(self) -> str:
        return self._name

    @property
    def min_interval_s(self) -> float:
        return self._min_interval_s

    async def _post(self, message: SlackMessage, **extra: Any) -> Mapping[str, Any]:
        try:
            response = await self._client.chat_postMessage(
                text=message.text,
                blocks=message.blocks_list(),
                unfurl_links=False,
                unfurl_media=False,
                **extra,
            )
        except Exception as exc:
            raise map_slack_error(exc) from exc
        data = response.data
        if not isinstance(data, dict):
            raise DeliveryError("slack returned no JSON body", retryable=True)
        return data

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt:
        """Post ``alert``; in ``thread``'s thread when given, then refresh the parent counter."""
        if thread is None or thread.ts is None or thread.channel is None:
            data = await self._post(build_payload(alert), channel=self.channel)
            return Receipt(
                destination=self._name,
                channel=str(data.get("channel", self.channel)),
                ts=str(data["ts"]),
                status_code=200,
                parent=alert,
            )
        data = await self._post(
            build_reply_payload(alert), channel=thread.channel, thread_ts=thread.ts
        )
        parent = build_payload(thread.parent or alert, replies=thread.replies + 1, latest=alert)
        try:
            await self._client.chat_update(
                channel=thread.channel,
                ts=thread.ts,
                text=parent.text,
                blocks=parent.blocks_list(),
            )
        except Exception as exc:
            # The reply is posted; failing here would make dispatch post it again. A stale
            # counter is the lesser harm.
            log.warning("slack: could not update thread parent %s: %s", thread.ts, exc)
        return Receipt(
            destination=self._name,
            channel=str(data.get("channel", thread.channel)),
            ts=str(data["ts"]),
            status_code=200,
        )

    async def aclose(self) -> None:
        """Nothing to release: slack-sdk opens a session per call unless given one."""
