"""The gate's hyperscan prefilter: the same answers as RE2, in every corner it takes.

The prefilter spells keys out as literals with space runs up to RUN_LIMIT, finds longer
phrases by one pair of their tokens, and hands long runs, busy scratch space and refused
key sets back to RE2; each of those paths is driven here and compared with a plain search
of the tokenizer's ``joined`` text.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stream.engine.gate as gate_module
from stream.engine import load_rules
from stream.engine.gate import KeyGate, prefilter_available
from stream.engine.spelling import RUN_LIMIT
from stream.engine.text import (
    _LATIN1_FOLD,
    _NON_ASCII_WORDISH,
    FieldText,
    _unicode_offsets,
    _unicode_tokens,
    fast_fold,
    fast_fold_fields,
    fold,
)

pytestmark = pytest.mark.skipif(
    not prefilter_available(), reason="hyperscan is not installed on this platform"
)


def reference(keys: list[str], title: str, body: str) -> bool | None:
    """What the gate must answer: does a key occur in either field's token text."""
    if fast_fold(title) is None or fast_fold(body) is None:
        return None
    joined = (FieldText(title).joined, FieldText(body).joined)
    return any(key in field for key in keys for field in joined)


# ---------------------------------------------------------------------------------------------
# Folding both fields in one pass


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("EU talks", "Costs \u00a35, \u201cquoted\u201d"),
        ("", ""),
        ("Caf\u00e9", "x"),  # an accented letter in the title: folded in the table
        ("Stra\u00dfe", "x"),  # a word character in the title the table cannot fold
        ("x", "\u00aa"),  # a Latin-1 word character (feminine ordinal) in the body
        ("lone \ud800", "surrogate"),
        ("nul\x00inside", "x"),  # the field mark itself: folded apart by the caller
    ],
)
def test_fast_fold_fields_table(title: str, body: str) -> None:
    both = fast_fold_fields(title, body)
    if "\x00" in title + body or fast_fold(title) is None or fast_fold(body) is None:
        assert both is None
    else:
        assert_folds_apart(both, title, body)


def assert_folds_apart(both: bytes | None, title: str, body: str) -> None:
    """The tokens of each field, padded, on either side of the field mark.

    Runs of spaces may differ in length, never the tokens.
    """
    assert both is not None
    assert both.startswith(b" ") and both.endswith(b" ") and both.count(b" \x00 ") == 1
    title_part, body_part = both.split(b"\x00")
    assert title_part.split() == (fast_fold(title) or b"").split()
    assert body_part.split() == (fast_fold(body) or b"").split()


latin1_text = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40)


@settings(max_examples=400, deadline=None)
@given(latin1_text)
def test_latin1_fold_keeps_the_tokens_and_flags_word_characters(text: str) -> None:
    folded = fast_fold(text)
    # Only a word character that does not fold to one ASCII letter or digit ("ß", "µ", "½")
    # needs the Unicode tokenizer; accented letters fold in the table.
    unfoldable = any(
        _NON_ASCII_WORDISH.fullmatch(char) is not None
        and not (len(fold(char)) == 1 and fold(char).isascii() and fold(char).isalnum())
        for char in text
    )
    assert (folded is None) == unfoldable
    if folded is not None:
        assert folded.decode("ascii").split() == _unicode_tokens(text)


def drawn_from(*characters: str) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(characters), max_size=40)


def folded_in_place(text: str) -> bytes:
    """fast_fold's bytes for ``text``, which must keep one byte per character."""
    folded = fast_fold(text)
    assert folded is not None
    assert len(folded) == len(text)
    assert folded.decode("ascii").split() == _unicode_tokens(text)
    return folded


# Signs past U+00FF as English news has them (quotes, dashes, ellipsis, euro, trade mark), an
# astral symbol, a lone surrogate, and Latin-1 signs: none of them a word character.
TYPOGRAPHIC = (
    *"Ab9 .,'\"-\n\u00a3\u00a0\u00bb", *"\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u20ac"
)
# Letters past U+00FF that fold to one ASCII letter ("ğ" of Erdoğan, "š" of Babiš, "İ").
FOLDABLE = (*"Erdoan Babi .,'-\n\u00e9\u00a3", *"\u011f\u0161\u0130\u0101\u010d\u2019\u2014")


@settings(max_examples=400, deadline=None)
@given(drawn_from(*TYPOGRAPHIC, "\u2122", "\U0001f600", "\ud800", "x"))
def test_typographic_signs_fold_to_one_space_each(text: str) -> None:
    """Folded from the UTF-8 bytes: the same bytes as copying each sign as "?", a separator."""
    assert folded_in_place(text) == text.encode("latin-1", "replace").translate(_LATIN1_FOLD)


@settings(max_examples=400, deadline=None)
@given(drawn_from(*FOLDABLE))
def test_letters_past_latin1_fold_in_place(text: str) -> None:
    """ "Erdoğan" takes the byte path too, with the Unicode tokenizer's tokens and offsets."""
    folded_in_place(text)
    assert FieldText(text).spans == list(zip(*_unicode_offsets(text), strict=True))


@settings(max_examples=300, deadline=None)
@given(title=latin1_text, body=st.text(max_size=40))
def test_fast_fold_fields_equals_folding_apart(title: str, body: str) -> None:
    both = fast_fold_fields(title, body)
    if both is not None:
        assert_folds_apart(both, title, body)
    else:
        assert "\x00" in title + body or fast_fold(title) is None or fast_fold(body) is None


# ---------------------------------------------------------------------------------------------
# Space runs, pairs and the hand-backs to RE2

RUN = " " * RUN_LIMIT
LONG = " " * (RUN_LIMIT + 1)
KEYS = [" red fox ", " red fox den ", " the quick brown fox jumps ", " lazy do", " ox "]


@pytest.mark.parametrize(
    ("body", "admitted"),
    [
        ("a red fox", True),
        (f"red{RUN}fox", True),  # spelled out
        (f"red{LONG}fox", True),  # past the spelled runs: RE2 says so
        (f"red{LONG}cat", False),  # a long run alone proves nothing
        ("the  quick brown, fox: jumps", True),  # a phrase found by its pair, then checked
        ("brown fox jumps", False),  # the pair without the rest of the phrase
        (f"the quick{RUN}brown{RUN}fox{RUN}jumps", True),
        (f"the quick brown{LONG}fox jumps", True),
        ("lazy dogs", True),  # a prefix key
        ("lazy  dogs", True),
        ("lazydogs", False),
        ("fox den", False),
        ("box", False),
    ],
)
@pytest.mark.parametrize("prefilter", [True, False], ids=["hyperscan", "re2"])
def test_runs_pairs_and_prefixes(body: str, admitted: bool, prefilter: bool) -> None:
    gate = KeyGate(KEYS, prefilter=prefilter)
    assert gate.admits_text("Title", body) is admitted
    assert gate.admits(fast_fold(body) or b"") is admitted
    assert reference(KEYS, "Title", body) is admitted


def test_a_phrase_after_an_early_stray_pair() -> None:
    """The check starts near the pair's first occurrence, and still finds a later phrase."""
    gate = KeyGate([" the quick brown fox jumps "])
    filler = " ".join(f"word{i}" for i in range(400))
    assert gate.admits_text("", f"fox jumps. {filler} the quick brown fox jumps")
    assert not gate.admits_text("", f"fox jumps. {filler} the quick brown fox")
    assert gate.admits_text("brown fox jumps", f"{filler} the quick brown fox jumps over")


KEY_WORDS = ["red", "fox", "den", "the", "quick", "ox"]
PIECES = [
    *KEY_WORDS, "Red", "FOX", "foxes", " ", "  ", ", ", "\n", "-" * RUN_LIMIT, LONG,
    "\u00a3", "\u2019", "\u00e9", "\x00",
]
# Keys of one to five key words, each a whole phrase or a prefix (True).
key_sets = st.lists(
    st.tuples(st.lists(st.sampled_from(KEY_WORDS), min_size=1, max_size=5), st.booleans()),
    min_size=1,
    max_size=5,
)


def pieces(most: int) -> st.SearchStrategy[str]:
    """Texts of up to ``most`` pieces: key words, their variants, separators, long runs."""
    return st.lists(st.sampled_from(PIECES), max_size=most).map("".join)


def key_texts(keys: list[tuple[list[str], bool]]) -> list[str]:
    return [" " + " ".join(tokens) + ("" if prefix else " ") for tokens, prefix in keys]


@settings(max_examples=400, deadline=None)
@given(
    keys=key_sets,
    title=pieces(12),
    body=pieces(30),
)
def test_admits_text_equals_a_joined_search(
    keys: list[tuple[list[str], bool]], title: str, body: str
) -> None:
    texts = key_texts(keys)
    expected = reference(texts, title, body)
    assert KeyGate(texts).admits_text(title, body) == expected
    assert KeyGate(texts, prefilter=False).admits_text(title, body) == expected


# ---------------------------------------------------------------------------------------------
# A batch of articles in one scan


def _folds(gate: KeyGate, pairs: list[tuple[str, str]]) -> list[bytes]:
    folds = [gate.fold(title, body) for title, body in pairs]
    assert all(padded is not None for padded in folds)
    return [padded for padded in folds if padded is not None]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # A key cut in two by the end of one article and the start of the next is in neither.
        ([("", "a red"), ("fox and", "more")], [False, False]),
        ([("", "the quick brown"), ("fox jumps", "")], [False, False]),
        # A long run at the end of one article, the rest of a key in the next.
        ([("", f"red{LONG}"), ("fox", "")], [False, False]),
        ([("", f"red{LONG}cat"), ("", f"red{LONG}fox"), ("", "")], [False, True, False]),
        # The same key in several articles is found in each (every occurrence is reported).
        ([("", "red fox")] * 3 + [("", "cat")] + [("red  fox", "")], [True] * 3 + [False, True]),
        # A phrase's pair early in one article, the phrase whole in a later one.
        ([("", "brown fox jumps"), ("", "x"), ("", "the quick brown fox jumps")],
         [False, False, True]),
        ([("", "lazy"), ("dogs", "")], [False, False]),
        ([("", "red fox")], [True]),
        ([], []),
    ],
)
def test_admits_many_charges_each_match_to_its_article(
    pairs: list[tuple[str, str]], expected: list[bool]
) -> None:
    gate = KeyGate(KEYS)
    folds = _folds(gate, pairs)
    assert gate.admits_many(folds) == expected
    assert [gate.admits_padded(padded) for padded in folds] == expected


@settings(max_examples=300, deadline=None)
@given(
    keys=key_sets,
    pairs=st.lists(
        st.tuples(pieces(8), pieces(20)),
        max_size=8,
    ),
)
def test_admits_many_equals_one_at_a_time(
    keys: list[tuple[list[str], bool]], pairs: list[tuple[str, str]]
) -> None:
    texts = key_texts(keys)
    gate = KeyGate(texts)
    folds = [gate.fold(title, body) for title, body in pairs]
    padded = [one for one in folds if one is not None]
    expected = [
        reference(texts, title, body)
        for (title, body), one in zip(pairs, folds, strict=True)
        if one is not None
    ]
    assert gate.admits_many(padded) == expected


def test_a_batch_on_a_busy_scratch_space_is_answered_by_re2() -> None:
    gate = KeyGate(KEYS)
    assert gate._database is not None
    folds = _folds(gate, [("", "a red  fox"), ("", "a red cat"), ("", f"red{LONG}fox")])
    answers: list[list[bool]] = []

    def inside(report: int, start: int, end: int, flags: int, context: object) -> None:
        answers.append(gate.admits_many(folds))

    gate._database.scan(b" red fox ", inside)
    assert answers == [[True, False, True]]


# ---------------------------------------------------------------------------------------------
# Threads, refusals and reloads


def test_a_busy_scratch_space_is_answered_by_re2() -> None:
    """A scan started while the gate's scratch is in use (another thread) still answers."""
    gate = KeyGate(KEYS)
    assert gate._database is not None
    answers: list[bool] = []

    def inside(report: int, start: int, end: int, flags: int, context: object) -> None:
        answers.append(gate.admits(b"a red  fox"))
        answers.append(gate.admits(b"a red cat"))

    gate._database.scan(b" red fox ", inside)
    assert answers == [True, False]


def test_threads_share_a_gate() -> None:
    gate = KeyGate(KEYS)
    bodies = [f"{'word ' * (i % 50)}{'red fox' if i % 3 else 'red cat'}" for i in range(300)]
    expected = [reference(KEYS, "", body) for body in bodies]
    results: dict[int, list[bool | None]] = {}

    def work(slot: int) -> None:
        results[slot] = [gate.admits_text("", body) for body in bodies for _ in range(5)][::5]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not thread.is_alive() for thread in threads)
    assert results == {slot: expected for slot in range(4)}


class RefusingDatabase:
    """Stands in for a key set hyperscan cannot compile (its size, a platform limit)."""

    def __init__(self, mode: int) -> None:
        self.mode = mode

    def compile(self, **_: object) -> None:
        raise gate_module.hyperscan.CompilerError("refused")


def test_a_refused_key_set_falls_back_to_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_module.hyperscan, "Database", RefusingDatabase)
    gate = KeyGate(KEYS)
    assert not gate.prefiltered
    assert gate.admits_text("", "red  fox") is True
    assert gate.admits_text("", "red cat") is False


def test_a_dropped_rule_set_frees_its_gate(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    rules = [{"id": "r", "name": "R", "when": {"any": ["Armenia", "Yerevan talks"]}}]
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    ruleset = load_rules([path])
    assert ruleset.gate is not None and ruleset.gate.prefiltered
    gate = weakref.ref(ruleset.gate)
    del ruleset
    gc.collect()
    assert gate() is None


STATM = Path("/proc/self/statm")
# Run in a fresh interpreter, so that no other test's threads or caches move its RSS.
REBUILDS = """
import ctypes, ctypes.util, gc, json, sys
from pathlib import Path
from stream.engine.gate import KeyGate

libc = ctypes.CDLL(ctypes.util.find_library("c"))

def rss():
    gc.collect()
    libc.malloc_trim(0)  # hand freed heap back, so that RSS follows what is still held
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

keys = [f" w{i:05d} x{i % 97} " for i in range(1000)]
per_gate = KeyGate(keys)._database.size()
growths = []
for _ in range(3):
    before = rss()
    for _ in range(32):
        assert KeyGate(keys).prefiltered
    growths.append(rss() - before)
print(json.dumps({"growths": growths, "per_gate": per_gate}))
"""


@pytest.mark.skipif(not STATM.exists(), reason="needs /proc/self/statm (Linux) to read RSS")
def test_rebuilt_gates_do_not_pile_up() -> None:
    """Each gate's database and scratch are freed with it: RSS stops growing over rebuilds.

    Three rounds of 32 rebuilds: a leak of the database alone would add a quarter of a gate's
    size 32 times in every round, where a one-off step of the allocator (seen once: 3 MB in
    one measurement) shows in one round only, so the smaller of the last two rounds decides.
    """
    done = subprocess.run(
        [sys.executable, "-c", REBUILDS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    measured = json.loads(done.stdout)
    assert min(measured["growths"][1:]) < 4 * measured["per_gate"], measured
