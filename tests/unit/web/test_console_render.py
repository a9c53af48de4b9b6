"""Highlighting escapes everything it does not mark; links and destinations never leak."""

from __future__ import annotations

import pytest

from stream.web.console.render import (
    display_destination,
    highlight_spans,
    highlight_terms,
    redact_url,
    render,
    safe_href,
)

M = '<mark class="hit">'


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("Armenia skips", [(0, 7)], f"{M}Armenia</mark> skips"),
        ("a b c", [(2, 3), (0, 1)], f"{M}a</mark> {M}b</mark> c"),
        ("overlap", [(0, 4), (2, 7)], f"{M}overlap</mark>"),
        ("edge", [(-3, 2), (3, 99)], f"{M}ed</mark>g{M}e</mark>"),
        ("empty", [(2, 2)], "empty"),
        ("<b>x</b>", [(3, 4)], f"&lt;b&gt;{M}x</mark>&lt;/b&gt;"),
    ],
)
def test_highlight_spans(text: str, spans: list[tuple[int, int]], expected: str) -> None:
    assert str(highlight_spans(text, spans)) == expected


@pytest.mark.parametrize(
    ("text", "needles", "expected"),
    [
        ("The CSTO and the csto", ["CSTO"], f"The {M}CSTO</mark> and the {M}csto</mark>"),
        ("would not attend the", ["not\n attend"], f"would {M}not attend</mark> the"),
        ("a.b and axb", ["a.b"], f"{M}a.b</mark> and axb"),
        ("<i>Armenia</i>", ["Armenia"], f"&lt;i&gt;{M}Armenia</mark>&lt;/i&gt;"),
        ("nothing here", ["", "   "], "nothing here"),
        ("Armenia and Armenian", ["Armenia"], f"{M}Armenia</mark> and Armenian"),
        ("Armenia\u2019s vote", ["Armenia"], f"{M}Armenia</mark>\u2019s vote"),
    ],
)
def test_highlight_terms(text: str, needles: list[str], expected: str) -> None:
    assert str(highlight_terms(text, needles)) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.org/a", "https://news.example.org/a"),
        ("HTTP://news.example.org/a", "HTTP://news.example.org/a"),
        ("javascript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("", None),
        (None, None),
        ("http://[::1", None),
    ],
)
def test_safe_href_links_only_http(url: str | None, expected: str | None) -> None:
    assert safe_href(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.example.com/services/T0/B0/tok", "https://hooks.example.com/…"),
        ("https://user:pw@hooks.example.com:8443/", "https://hooks.example.com:8443"),
        ("http://127.0.0.1:9000?key=abc", "http://127.0.0.1:9000/…"),
        ("https://partner.example.org", "https://partner.example.org"),
        ("http://[::1", "(unreadable URL)"),
    ],
)
def test_redact_url_keeps_scheme_and_host_only(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_display_destination_redacts_shorthand_webhooks_only() -> None:
    assert display_destination("webhook:https://h.example/s/k?x=1") == "webhook:https://h.example/…"
    assert display_destination("slack:#desk") == "slack:#desk"
    assert display_destination("console") == "console"


def test_templates_escape_by_default() -> None:
    html = render("message.html", title="<script>x()</script>", text="a & b",
                  back="/console/alerts", page="alerts", app_id="<app>", rules_version="v",
                  admin_enabled=False)
    assert "<script>x()" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "a &amp; b" in html and "&lt;app&gt;" in html
