"""The screens after the gate: the keys that may occur and the tails that do, before tokenizing.

Both are compared with the tokenizer's ``joined`` text on generated articles, and driven
through busy scratch space and refused or missing hyperscan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stream.engine.screens as screens_module
from stream.engine import load_rules
from stream.engine.gate import KeyGate, prefilter_available
from stream.engine.screens import build_presence, build_tails
from stream.engine.text import FieldText, split_term
from stream.models import Article
from tests.unit.engine.test_engine_gate_prefilter import PIECES, RefusingDatabase

pytestmark = pytest.mark.skipif(
    not prefilter_available(), reason="hyperscan is not installed on this platform"
)


# ---------------------------------------------------------------------------------------------
# KeyPresence: the keys that occur, as the automaton finds them, and the unspellable ones

PRESENCE_KEYS = {
    0: " red ", 1: " red fox ", 2: " the quick brown fox jumps ", 3: " qu", 4: None,
    5: " \u0436 ", 6: " fox den ",
}


def _fold_both_ways(title: str, body: str) -> tuple[bytes, tuple[str, str]] | None:
    """The screens' input (the gate's folded bytes) and the tokenizer's text to check it by."""
    padded = KeyGate([" red "]).fold(title, body)
    if padded is None:
        return None
    return padded, (FieldText(title).joined, FieldText(body).joined)


@settings(max_examples=400, deadline=None)
@given(
    title=st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    body=st.lists(st.sampled_from([*PIECES, "brown", "jumps"]), max_size=30).map("".join),
)
def test_presence_finds_exactly_the_keys_that_occur(title: str, body: str) -> None:
    presence = build_presence(PRESENCE_KEYS)
    assert presence is not None
    folded = _fold_both_ways(title, body)
    if folded is None:
        return  # the Unicode path never asks
    padded, joined = folded
    found = presence.present(padded)
    assert found is not None
    occurring = {
        key for key, text in PRESENCE_KEYS.items()
        if text is not None and any(text in field for field in joined)
    }
    assert found == occurring | {4, 5}  # a re: key and a non-ASCII one are always there


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A long run inside a key: scanned again with the run cut, found like any other.
        (f"red{' ' * 12}fox", {0, 1}),
        (f"red{' ' * 12}cat and fox{' ' * 9}den", {0, 6}),
        # A long phrase is found by a pair of its tokens, then checked whole (3 is " qu").
        ("quick brown fox jumps", {3}),
        ("the quick brown fox jumps", {2, 3}),
        (f"the  quick{' ' * 20}brown fox jumps", {2, 3}),
        ("the quick brown fox jumped", {3}),
    ],
)
def test_presence_is_exact_past_long_runs_and_for_long_phrases(
    body: str, expected: set[int]
) -> None:
    presence = build_presence(PRESENCE_KEYS)
    assert presence is not None
    padded = KeyGate([" red "]).fold("", body)
    assert padded is not None
    assert presence.present(padded) == expected | {4, 5}


def _asked_mid_scan(
    labels: Any, scanned: bytes, ask: Callable[[], set[int] | None]
) -> list[set[int] | None]:
    """What ``ask`` answers on each match of a screen's own scan of ``scanned``: its scratch
    space is in use then, as when another thread scans."""
    assert labels.database is not None
    inner: list[set[int] | None] = []

    def inside(report: int, start: int, end: int, flags: int, context: object) -> None:
        inner.append(ask())

    labels.database.scan(scanned, inside)
    return inner


def test_presence_with_a_busy_scratch_says_it_cannot_tell() -> None:
    presence = build_presence(PRESENCE_KEYS)
    assert presence is not None
    inner = _asked_mid_scan(presence._labels, b" red ", lambda: presence.present(b" red fox "))
    assert inner == [None]
    assert presence.present(b" red fox ") == {0, 1, 4, 5}


def test_presence_is_left_out_when_hyperscan_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screens_module.hyperscan, "Database", RefusingDatabase)
    assert build_presence(PRESENCE_KEYS) is None
    monkeypatch.setattr(screens_module, "hyperscan", None)
    assert build_presence(PRESENCE_KEYS) is None


# ---------------------------------------------------------------------------------------------
# TailScreen: terms that go on after a prefix, found whole in the folded bytes

TAIL_TERMS = {
    10: "red* fox",  # a prefix, then a whole token
    11: "the qu* brown fox*",  # a whole token, a prefix, then more: a prefix last
    12: "fox* den",
    13: "red* \u0436",  # a token the folded bytes cannot hold: always reported
}


def _tail_terms() -> dict[int, tuple[tuple[str, bool], ...]]:
    return {term: tuple(split_term(text)) for term, text in TAIL_TERMS.items()}


def _tail_follows_in_joined(parts: tuple[tuple[str, bool], ...], joined: str) -> bool:
    """The reference: the term's tokens in a row in the tokenizer's text, prefixes as such."""
    tokens = joined.split()
    for start in range(len(tokens) - len(parts) + 1):
        if all(
            tokens[start + i].startswith(token) if prefix else tokens[start + i] == token
            for i, (token, prefix) in enumerate(parts)
        ):
            return True
    return False


@settings(max_examples=400, deadline=None)
@given(
    title=st.lists(st.sampled_from([*PIECES, "redder", "dens", "qux"]), max_size=12).map("".join),
    body=st.lists(st.sampled_from([*PIECES, "redder", "dens", "qux"]), max_size=30).map("".join),
)
def test_tails_are_found_exactly(title: str, body: str) -> None:
    tails = build_tails(_tail_terms())
    assert tails is not None
    folded = _fold_both_ways(title, body)
    if folded is None:
        return  # the Unicode path never asks
    padded, joined = folded
    found = tails.occurring(padded)
    assert found is not None
    expected = {
        term for term, parts in _tail_terms().items()
        if any(_tail_follows_in_joined(parts, field) for field in joined)
    }
    assert found == expected | {13}


def test_tails_with_a_busy_scratch_say_they_cannot_tell() -> None:
    tails = build_tails(_tail_terms())
    assert tails is not None
    inner = _asked_mid_scan(tails._labels, b" red fox ", lambda: tails.occurring(b" redder fox "))
    assert inner == [None]
    assert tails.occurring(b" redder fox \x00 the quick brown foxes ") == {10, 11, 13}
    assert tails.occurring(b" the quick brownish foxes ") == {13}


def test_tails_are_left_out_when_hyperscan_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_tails({}) is None
    monkeypatch.setattr(screens_module.hyperscan, "Database", RefusingDatabase)
    assert build_tails(_tail_terms()) is None
    monkeypatch.setattr(screens_module, "hyperscan", None)
    assert build_tails(_tail_terms()) is None


def test_a_key_without_its_tail_is_turned_away_before_tokenizing(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps({"rules": [
        {"id": "walkout", "name": "W", "when": {"all": ["union*", "walk* out"]}},
    ]}), encoding="utf-8")
    ruleset = load_rules([path])
    assert ruleset.gate is not None
    walked_in = ruleset.gate.fold("Union news", "Members walked in to the hall.")
    walked_out = ruleset.gate.fold("Union news", "Members walked out of the hall.")
    assert walked_in is not None and walked_out is not None
    assert ruleset._may_fire(walked_in) is False
    assert ruleset._may_fire(walked_out) is True
    article = Article(id="a", title="Union news", body="Members walked out of the hall.")
    assert [m.rule_id for m in ruleset.evaluate(article)] == ["walkout"]
