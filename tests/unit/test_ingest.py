"""Every kind of bad message gets a one-line reason naming the problem."""

from __future__ import annotations

import pytest

from stream.errors import ArticleError, NewsalertError
from stream.ingest import parse_article

GOOD = b'{"id": "a1", "title": "T", "body": "B", "source": "Wire", "published_at": null}'


def test_valid_article_parses() -> None:
    article = parse_article(GOOD)
    assert (article.id, article.title, article.body, article.source) == ("a1", "T", "B", "Wire")
    assert article.published_at is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty message"),
        (b"", "empty message"),
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"id": "a"}', "title: Field required; body: Field required"),
        (b'{"id": "a", "title": 5, "body": "b"}', "title: Input should be a valid string"),
        (b'{"id": "", "title": "t", "body": "b"}', "id: String should have at least 1 character"),
        (b'{"id": "a", "title": "t", "body": "b", "published_at": "yesterday"}', "published_at"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b'{"id": "a", "title": "t", "body": "caf\xe9"}', "not UTF-8 text: invalid continuation"),
        (b'{"id": "a", "title": "t\xc3", "body": "b"}', "at byte 23"),
        (b'{"id": "a", "title": "t\\u0000", "body": "b"}', "NUL character"),
    ],
)
def test_invalid_messages_say_why(raw: bytes | None, reason: str) -> None:
    with pytest.raises(ArticleError) as info:
        parse_article(raw)
    assert reason in str(info.value)
    assert isinstance(info.value, NewsalertError)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
