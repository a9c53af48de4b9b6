"""Every kind of bad message gets a one-line reason naming the problem; a batch of good ones
is evaluated together, and an engine fault fails only the article that caused it. Validation
into fields (the worker's path) accepts, rejects and explains exactly as the model does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from stream import ingest
from stream.engine import RuleSet, load_rules
from stream.engine.text import FieldText
from stream.errors import ArticleError, NewsalertError
from stream.ingest import (
    ParsedBatch,
    evaluate_batch,
    evaluate_parsed,
    parse_article,
    parse_fields,
)
from stream.models import Article, Match
from tests.support.alerting import alerting_articles, encode

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
    with pytest.raises(ArticleError) as fields_info:
        parse_fields(raw)
    assert str(fields_info.value) == str(info.value)


# ---------------------------------------------------------------------------------------------
# Validation into fields: the model's own field schemas, without building the model


def test_fields_are_validated_by_the_models_own_schemas() -> None:
    assert ingest._validate_fields is not None  # not the fallback through the model
    fields = parse_fields(GOOD)
    assert fields == {"id": "a1", "title": "T", "body": "B", "url": None, "source": "Wire",
                      "published_at": None, "language": "en"}
    assert Article.model_validate(fields) == parse_article(GOOD)


def test_a_model_with_aliases_is_left_to_the_model() -> None:
    class Aliased(BaseModel):
        title: str = Field(alias="headline")

    assert ingest._fields_validator(Aliased) is None


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=8),
    st.sampled_from(["", "2024-05-01T10:00:00Z", "yesterday", "x" * 600, "a\x00b"]),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "title", "body", "url", "source", "published_at",
                                        "language", "extra"]), _VALUES, max_size=8))
def test_fields_and_model_agree_on_any_object(obj: dict[str, object]) -> None:
    raw = json.dumps(obj).encode()
    try:
        expected: Article | str = parse_article(raw)
    except ArticleError as exc:
        expected = str(exc)
    try:
        got: Article | str = Article.model_validate(parse_fields(raw))
    except ArticleError as exc:
        got = str(exc)
    assert got == expected


def test_fields_and_model_agree_on_full_articles() -> None:
    for _, raw in map(encode, alerting_articles(40, "fields")):
        assert Article.model_validate(parse_fields(raw)) == parse_article(raw)


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
    parsed = ParsedBatch([dict(article) for article in BATCH])
    for results in (evaluate_batch(ruleset, BATCH), evaluate_parsed(ruleset, parsed)):
        fault = results[2]
        assert isinstance(fault, RuntimeError) and str(fault) == "engine fault"
        assert results[:2] + results[3:] == expected[:2] + expected[3:]
    assert evaluate_batch(ruleset, []) == []
    assert evaluate_parsed(ruleset, ParsedBatch([])) == []


def test_fields_are_built_into_articles_only_past_the_screens(tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path)
    batch = ParsedBatch([dict(article) for article in BATCH])
    assert evaluate_parsed(ruleset, batch) == [ruleset.evaluate(article) for article in BATCH]
    gate = ruleset.gate
    if gate is not None and gate.prefiltered:
        assert batch.built == 3  # the weather report never became an Article
    else:  # without the prefilter each article is evaluated on its own, so each is built
        assert batch.built == 4
    assert batch.article(0) is batch.article(0)
    assert batch.article(1) == BATCH[1]
