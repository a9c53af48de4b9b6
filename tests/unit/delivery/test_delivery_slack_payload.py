"""The Slack message builders, tested directly (layout, escaping, bolding and limits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from stream.delivery.slack import (
    BLOCKS_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    build_payload,
    build_reply_payload,
    map_slack_error,
)
from stream.models import Alert, Evidence

AlertFactory = Callable[..., Alert]


def _texts(blocks: tuple[dict[str, Any], ...]) -> list[str]:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(e["text"] for e in block.get("elements", []))
    return out


def test_parent_message_carries_everything_a_reader_needs(make_alert: AlertFactory) -> None:
    alert = make_alert(story_articles=3, story_sources=2)
    message = build_payload(alert)
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == ":large_orange_circle: HIGH · Armenia"
    texts = "\n".join(_texts(message.blocks))
    assert "<https://news.example.org/armenia-csto|Armenia skips the CSTO summit>" in texts
    assert "CSTO member skips a summit" in texts
    assert "`alliances.csto.summit_skip`" in texts
    assert "*Source:* example-wire" in texts
    assert "3 articles from 2 sources" in texts
    assert ">a further sign of cooling ties with the *CSTO*." in texts
    assert message.text == "[HIGH] Armenia: Armenia skips the CSTO summit"


@pytest.mark.parametrize(
    ("snippet", "needle", "expected"),
    [
        ("ties with the CSTO.", "CSTO", "ties with the *CSTO*."),
        ("the csto and the CSTO", "CSTO", "the *csto* and the *CSTO*"),
        ("a <b> & CSTO", "CSTO", "a &lt;b&gt; &amp; *CSTO*"),
        ("5 * 3 CSTO", "CSTO", "5 \u2217 3 *CSTO*"),
        ("no hit here", "CSTO", "no hit here"),
    ],
)
def test_snippets_escape_text_and_bold_matched_words(
    make_alert: AlertFactory, snippet: str, needle: str, expected: str
) -> None:
    ev = Evidence(field="body", term=needle, text=needle, start=0, end=4, snippet=snippet)
    message = build_payload(make_alert(evidence=(ev,)))
    assert f">{expected}" in _texts(message.blocks)


def test_link_without_url_is_plain_and_odd_characters_cannot_break_it(
    make_alert: AlertFactory,
) -> None:
    no_url = build_payload(
        make_alert(article=make_alert().article.model_copy(update={"url": None}))
    )
    assert "*Armenia skips the CSTO summit*" in _texts(no_url.blocks)[1]
    odd = make_alert(title="A|B <C>")
    assert (
        "<https://news.example.org/armenia-csto|A\u2223B &lt;C&gt;>"
        in _texts(build_payload(odd).blocks)[1]
    )


def test_long_fields_are_truncated_within_slack_limits(make_alert: AlertFactory) -> None:
    word = "escalation "
    evidence = tuple(
        Evidence(
            field="body", term="CSTO", text="CSTO", start=0, end=4, snippet=f"{i} " + word * 600
        )
        for i in range(80)
    )
    alert = make_alert(entity="X" * 400, title=word * 200, text=word * 500, evidence=evidence)
    message = build_payload(alert, max_snippets=100)
    assert len(message.blocks) == BLOCKS_MAX
    assert "more blocks omitted" in _texts(message.blocks)[-1]
    assert len(message.blocks[0]["text"]["text"]) <= HEADER_TEXT_MAX
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_MAX
    headline = message.blocks[1]["text"]["text"]
    assert headline.startswith("*<https://") and ">*" in headline
    assert message.blocks[0]["text"]["text"].endswith("…")


def test_default_snippet_cap_says_how_many_were_left_out(make_alert: AlertFactory) -> None:
    evidence = tuple(
        Evidence(field="body", term="t", text="t", start=0, end=1, snippet=f"snippet {i}")
        for i in range(8)
    )
    message = build_payload(make_alert(evidence=evidence))
    assert "+3 more snippets" in _texts(message.blocks)


def test_parent_counter_and_follow_up_reply(make_alert: AlertFactory) -> None:
    first = make_alert()
    later = make_alert(
        kind="escalation", severity="critical", story_articles=5, story_sources=4, article_id="b"
    )
    parent = build_payload(first, replies=2, latest=later)
    assert ":thread: *2 follow-ups* in thread · now CRITICAL · 5 articles from 4 sources" in (
        _texts(parent.blocks)
    )
    assert parent.blocks[0]["text"]["text"].startswith(":large_orange_circle: HIGH")
    reply = build_reply_payload(later)
    assert _texts(reply.blocks)[0].startswith(":red_circle: *Escalated* · CRITICAL · Armenia")
    update = build_reply_payload(make_alert(kind="update"))
    assert "*New report*" in _texts(update.blocks)[0]


class _Response:
    def __init__(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.data = data
        self.headers = headers or {}


@pytest.mark.parametrize(
    ("status", "data", "headers", "retryable", "retry_after"),
    [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}, True, 7.0),
        (429, {"ok": False, "error": "ratelimited"}, {}, True, 1.0),
        (200, {"ok": False, "error": "invalid_auth"}, {}, False, None),
        (200, {"ok": False, "error": "channel_not_found"}, {}, False, None),
        (200, {"ok": False, "error": "internal_error"}, {}, True, None),
        (500, "oops", {}, True, None),
        (503, {"ok": False}, {}, True, None),
        (404, {"ok": False, "error": "unknown_method"}, {}, False, None),
    ],
)
def test_slack_errors_map_to_retryable_or_final(
    status: int,
    data: Any,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
) -> None:
    error = map_slack_error(SlackApiError("failed", _Response(status, data, headers)))
    assert error.retryable is retryable
    assert error.retry_after == retry_after


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [(TimeoutError(), True), (ConnectionRefusedError(), True), (ValueError("bug"), False)],
)
def test_network_errors_are_retryable(exc: BaseException, retryable: bool) -> None:
    assert map_slack_error(exc).retryable is retryable
