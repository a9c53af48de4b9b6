"""Tokens, folding and sentences: the ground every term match stands on."""

from __future__ import annotations

import pytest

from stream.engine.text import FieldText, fold, split_term


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Armenia\u2019s leaders", ["armenia", "s", "leaders"]),
        ("ARMENIA armenia Arménia", ["armenia", "armenia", "armenia"]),
        ("no-show, no show", ["no", "show", "no", "show"]),
        ("\uff21\uff52\uff4d\uff45\uff4e\uff49\uff41", ["armenia"]),  # full-width
        ("ﬁnance", ["finance"]),  # a ligature folds too
        ("Are\u0301valo", ["arevalo"]),  # decomposed accent stays inside the token
        ("snake_case 42", ["snake", "case", "42"]),
        ("Straße", ["strasse"]),
        ("", []),
    ],
)
def test_tokens_are_folded(text: str, tokens: list[str]) -> None:
    assert FieldText(text).tokens == tokens


@pytest.mark.parametrize(
    ("term", "parts"),
    [
        ("skip*", [("skip", True)]),
        ("stay* away", [("stay", True), ("away", False)]),
        ("no-show", [("no", False), ("show", False)]),
        ("Collective Security", [("collective", False), ("security", False)]),
        ("\u201cKremlin\u201d", [("kremlin", False)]),
    ],
)
def test_split_term(term: str, parts: list[tuple[str, bool]]) -> None:
    assert split_term(term) == parts


def test_spans_point_into_the_original_text() -> None:
    text = "Über die Arménie — ça va."
    field = FieldText(text)
    for token, (start, end) in zip(field.tokens, field.spans, strict=True):
        assert fold(text[start:end]) == token


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One two. Three four.", [0, 0, 1, 1]),
        ("Mr. Smith left. He said no.", [0, 0, 0, 1, 1, 1]),
        ("Line one\nLine two", [0, 0, 1, 1]),
        ("He said \u201cGo.\u201d Then left.", [0, 0, 0, 1, 1]),
        ("The U.S. economy grew 2.5% in May.", [0] * 9),
    ],
)
def test_sentences(text: str, sentences: list[int]) -> None:
    field = FieldText(text)
    assert [field.sentence_of(i) for i in range(len(field.tokens))] == sentences


def test_snippet_is_one_line_and_marks_cuts() -> None:
    field = FieldText("word " * 50 + "TARGET\n" + "tail " * 50)
    start = field.text.index("TARGET")
    snippet = field.snippet(start, start + 6, width=20)
    assert "TARGET" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "\n" not in snippet
