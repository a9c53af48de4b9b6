"""Every kind of bad message gets a one-line reason naming the problem; a batch of good ones
is evaluated together, and an engine fault fails only the article that caused it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream.engine import RuleSet, load_rules
from stream.engine.text import FieldText
from stream.errors import ArticleError, NewsalertError
from stream.ingest import evaluate_batch, parse_article
from stream.models import Article, Match

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


# ---------------------------------------------------------------------------------------------
# Evaluating a batch: a fault stays with its article


def _ruleset(tmp_path: Path) -> RuleSet:
    path = tmp_path / "rules.yml"
    rules = [{"id": "skip", "name": "Skip", "when": {"all": ["Armenia", "summit"]}}]
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return load_rules([path])


BATCH = [
    Article(id="first", title="Armenia skips the summit", body="Yerevan stays away."),
    Article(id="quiet", title="Weather", body="Rain in the north."),
    Article(id="broken", title="Armenia and the summit", body="A second report."),
    Article(id="last", title="Summit without Armenia", body="The seat stayed empty."),
]


def test_a_batch_gets_each_articles_matches(tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path)
    results = evaluate_batch(ruleset, BATCH)
    assert results == [ruleset.evaluate(article) for article in BATCH]
    assert [len(found) for found in results if isinstance(found, list)] == [1, 0, 1, 1]


def test_an_engine_fault_fails_only_its_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ruleset = _ruleset(tmp_path)
    expected = [ruleset.evaluate(article) for article in BATCH]
    evaluate_fields = ruleset._evaluate_fields

    def fragile(article: Article, fields: list[FieldText]) -> list[Match]:
        if article.id == "broken":
            raise RuntimeError("engine fault")
        return evaluate_fields(article, fields)

    monkeypatch.setattr(ruleset, "_evaluate_fields", fragile)
    results = evaluate_batch(ruleset, BATCH)
    fault = results[2]
    assert isinstance(fault, RuntimeError) and str(fault) == "engine fault"
    assert results[:2] + results[3:] == expected[:2] + expected[3:]
    assert evaluate_batch(ruleset, []) == []
