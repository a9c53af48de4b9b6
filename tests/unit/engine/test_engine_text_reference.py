"""FieldText's fast paths give the tokens and offsets of the plain one-regex tokenizer."""

from __future__ import annotations

import bisect
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from stream.engine.compiler import _tail_follows
from stream.engine.sentences import CLOSERS, OPENERS, SENTENCE_END
from stream.engine.text import _MARKS, FieldText, fold

# The definition, written the slow and obvious way: a word character followed by word
# characters and combining marks, or a run of marks; each folded, split again if folding
# produced separators.
_REFERENCE_TOKEN = re.compile(rf"[^\W_]([^\W_]|[{_MARKS}])*|[{_MARKS}]+")
_PIECE = re.compile(r"[^\W_]+")


def reference(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _REFERENCE_TOKEN.finditer(text):
        for piece in _PIECE.findall(fold(match.group())):
            tokens.append(piece)
            spans.append(match.span())
    return tokens, spans


ALPHABET = st.sampled_from(
    [
        "a", "Z", "7", "_", " ", "\n", "-", "'", "\u2019", "\u00a3", "\u2014", "\u00e9", "\u00c9",
        "\u00df", "\u0301", "\u20dd", "\ufb01", "\u00bd", "\u2460", "\u0416", "\u4e2d", "\u0663",
        "\uff21", "\ud800", "\u0130", "\u01c5", "\u00a0", "\u3000", "\u2028", "\t",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_tokens_and_spans_match_the_reference(text: str) -> None:
    field = FieldText(text)
    tokens, spans = reference(text)
    assert field.tokens == tokens
    assert field.spans == spans
    assert field.joined == " " + " ".join(tokens) + " "


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_matches_the_reference(text: str) -> None:
    field = FieldText(text)
    tokens, spans = reference(text)
    assert (field.tokens, field.spans) == (tokens, spans)


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_token_at_joined_counts_like_it_indexes(text: str) -> None:
    """Early lookups count spaces, later ones bisect token offsets: both give one answer."""
    joined = FieldText(text).joined
    starts = list(itertools.accumulate((len(t) + 1 for t in FieldText(text).tokens), initial=1))
    expected = [bisect.bisect_left(starts, pos) for pos in range(len(joined) + 2)]
    assert [FieldText(text).token_at_joined(pos) for pos in range(len(joined) + 2)] == expected
    reused = FieldText(text)
    assert [reused.token_at_joined(pos) for pos in range(len(joined) + 2)] == expected


# Sentence ends, written as two plain alternatives.
_REFERENCE_END = re.compile(
    rf"[.!?\u2026][{re.escape(CLOSERS)}]*\s+(?=[{re.escape(OPENERS)}]?[A-Z0-9À-Þ])|\n+"
)
SENTENCE_PIECES = st.sampled_from(
    [
        "Word", "word", "Mr", "A", "e.g", "42", " ", "  ", "\n", "\n\n", "\t", ".", "!", "?",
        "\u2026", '"', "'", "\u2019", "\u201d", ")", "]", "\u201c", "(", "\u00c9t\u00e9", "\u00e9",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(SENTENCE_PIECES, max_size=40).map("".join))
def test_sentence_end_matches_the_reference(text: str) -> None:
    assert [m.span() for m in SENTENCE_END.finditer(text)] == [
        m.span() for m in _REFERENCE_END.finditer(text)
    ]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_sentence_end_matches_the_reference_on_any_text(text: str) -> None:
    assert [m.span() for m in SENTENCE_END.finditer(text)] == [
        m.span() for m in _REFERENCE_END.finditer(text)
    ]


def reference_tail(tokens: list[str], at: int, rest: list[tuple[str, bool]]) -> bool:
    """Tokens ``at``.. are ``rest`` (a prefix flag allows a longer token), by index."""
    if at + len(rest) > len(tokens):
        return False
    return all(
        tokens[at + i].startswith(tok) if pre else tokens[at + i] == tok
        for i, (tok, pre) in enumerate(rest)
    )


WORDS = st.sampled_from(["out", "outs", "of", "o", "away", "awa", "the", "x"])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(WORDS, min_size=1, max_size=8),
    st.lists(st.tuples(WORDS, st.booleans()), min_size=1, max_size=3),
    st.data(),
)
def test_tail_follows_like_a_token_check(
    tokens: list[str], rest: list[tuple[str, bool]], data: st.DataObject
) -> None:
    joined = " " + " ".join(tokens) + " "
    at = data.draw(st.integers(0, len(tokens) - 1))
    start = sum(len(t) + 1 for t in tokens[:at]) + 1
    end = data.draw(st.integers(start, start + len(tokens[at]) - 1))  # a prefix ends anywhere
    assert _tail_follows(joined, end, tuple(rest)) == reference_tail(tokens, at + 1, rest)
