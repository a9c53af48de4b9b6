"""Canonical URLs, sources and body fingerprints: the exact-duplicate layer."""

from __future__ import annotations

import pytest
from state_fixtures import PORT, SUMMIT, article

from stream.state.canonical import body_fingerprint, canonical_url, source_of


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.org/a/b", "https://news.example.org/a/b"),
        ("HTTPS://WWW.News.Example.org/a/b/", "https://news.example.org/a/b"),
        ("http://news.example.org:80/a", "https://news.example.org/a"),
        ("https://news.example.org:8443/a", "https://news.example.org:8443/a"),
        ("https://news.example.org/a#comments", "https://news.example.org/a"),
        (
            "https://news.example.org/a?utm_source=x&utm_Medium=y&id=7&fbclid=z&gclid=q&ref=home",
            "https://news.example.org/a?id=7",
        ),
        ("https://news.example.org/a?b=2&a=1", "https://news.example.org/a?a=1&b=2"),
        ("https://news.example.org/Story/ABC", "https://news.example.org/Story/ABC"),
        ("https://news.example.org", "https://news.example.org/"),
        ("ftp://news.example.org/a", None),
        ("not a url", None),
        ("https://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("source", "url", "expected"),
    [
        ("Daily Ledger", None, "daily ledger"),
        ("  Daily   LEDGER ", "https://x.example/a", "daily ledger"),
        (None, "https://WWW.Ledger.example/a?utm_source=t", "ledger.example"),
        ("   ", "https://ledger.example/a", "ledger.example"),
        (None, None, "unknown"),
        (None, "mailto:desk@ledger.example", "unknown"),
    ],
)
def test_source_of(source: str | None, url: str | None, expected: str) -> None:
    assert source_of(article("a1", SUMMIT, source=source, url=url)) == expected


def test_body_fingerprint_ignores_layout_but_not_words() -> None:
    base = body_fingerprint(article("a", SUMMIT))
    relaid = body_fingerprint(article("b", "  " + SUMMIT.upper().replace(". ", ".\n\n")))
    assert base is not None
    assert base == relaid
    assert body_fingerprint(article("c", PORT)) != base
    assert body_fingerprint(article("d", " ... ")) is None
