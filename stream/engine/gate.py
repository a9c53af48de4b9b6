"""The early-reject gate: whether any anchor key can occur in an article, before tokenizing.

Most articles match no rule, and every rule needs a key of its anchor group, so a search for
all anchor keys at once over the folded bytes (:func:`~stream.engine.text.fast_fold`) turns
most of them away for the price of one byte pass and one search. The answer is exact: False
only when no key occurs.

Two engines give the same answers. A regex alternation, ``(?:^| )a +b(?: |$)`` per key, run
by RE2, is the reference and the fallback. Where hyperscan is installed, a database of plain
literals answers first, several times faster: its SIMD literal matcher slows down on the
`` +`` loops between a phrase's tokens (and on logical combinations of common tokens) about as
much as RE2 does, so the database holds literals (and one short pattern), over the folded
bytes of title and body padded with a space at each end and split by a NUL byte, which no
literal holds:

* a one-token key is the literal `` t `` (`` t`` for a prefix key): exactly "some token is t";
* a key of two or three tokens is spelled with every run of 1 to :data:`RUN_LIMIT` spaces
  between its tokens, which is the key itself whenever its runs are that short;
* a longer phrase contributes one adjacent pair of its tokens the same way; the pair is
  necessary, so when it occurs the phrase alone is checked with its own small RE2 regex;
* a run of more spaces than :data:`RUN_LIMIT` before a token (18 of 2,225 news articles) is
  reported too, and RE2 answers for that article.

Starting a scan costs about as much as scanning an article, so the articles of a batch are
scanned at once (:meth:`KeyGate.admits_many`), joined by a byte no literal holds, and each
match is charged to the article it ended in.

One database and its scratch space per gate, reused by every scan and freed with the gate
when a reload drops its rule set. A scan from a second thread while one is running (the
scratch is in use) is answered by RE2 instead, so the gate is safe from any thread.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import re2

from stream.engine.spelling import (
    FAST_TOKEN,
    RUN_LIMIT,
    SPELLED_TOKENS,
    phrase_pattern,
    spell_key,
)
from stream.engine.text import fast_fold, fast_fold_fields

try:
    import hyperscan
except ImportError:  # pragma: no cover - a platform without hyperscan wheels
    hyperscan = None  # type: ignore[assignment]

__all__ = [
    "BATCH_MARK",
    "GATE_MAX_MEM",
    "KeyGate",
    "build_gate",
    "prefilter_available",
]

# RE2 memory budget for a gate: thousands of keys fit; past it the gate is not built at all.
GATE_MAX_MEM = 64 << 20
# What a prefilter literal found: proof that a key occurs, a long space run (ask RE2), or
# from _FIRST_PHRASE on, a pair of one phrase's tokens (check that phrase).
_PROVEN = 0
_LONG_RUN = 1
_FIRST_PHRASE = 2
# A run of more than RUN_LIMIT spaces, reported once, where it ends (not at every space of a
# long run); a run at the very end of the bytes, after the last token, cannot matter.
_LONG_RUN_PATTERN = b" {%d}[^ ]" % (RUN_LIMIT + 1)
# Joins the articles of a batch scan: no literal holds it, so no match crosses it.
BATCH_MARK = b"\x01"
_PLUS_MARK = len(BATCH_MARK).__add__


def prefilter_available() -> bool:
    """Whether gates can use the hyperscan prefilter on this platform."""
    return hyperscan is not None


class KeyGate:
    """Says whether any of some automaton keys may occur in a field, before a full scan.

    Exact for fast-path text: the automaton finds " a b " in ``joined`` exactly when the
    :func:`fast_fold` bytes hold the tokens a, b in a row, which the regex
    ``(?:^| )a +b(?: |$)`` finds (a prefix key has no trailing space, so it stops without the
    closing alternative). Several fields are searched in one call, joined by
    :data:`SEPARATOR`, which no key can cross. A field that needed the Unicode tokenizer is
    searched in its ``joined`` instead, for the keys as literal strings (:meth:`admits_joined`).

    ``prefilter=False`` leaves hyperscan out, which the equivalence tests compare against.
    """

    SEPARATOR = b" \n "

    def __init__(self, keys: Iterable[str], *, prefilter: bool = True) -> None:
        unique = sorted(set(keys))
        self.keys: tuple[str, ...] = tuple(unique)
        fast = [key for key in unique if all(map(FAST_TOKEN.fullmatch, key.split()))]
        alternatives = sorted({_key_pattern(key) for key in fast})
        self.size = len(alternatives)
        options = re2.Options()
        options.max_mem = GATE_MAX_MEM
        options.log_errors = False
        self._regex: re2._Regexp | None = None
        self._literal: re2._Regexp | None = None
        # Built directly, not through re2.compile: its module-wide cache would keep every
        # gate of every reloaded rule set alive, DFA memory included.
        if alternatives:
            pattern = "(?:^| )(?:" + "|".join(alternatives) + ")"
            self._regex = re2._Regexp(pattern.encode("ascii"), options)
        if unique:
            literals = b"|".join(re2.escape(key.encode("utf-8")) for key in unique)
            self._literal = re2._Regexp(literals, options)
        self._database: hyperscan.Database | None = None
        self._kinds: tuple[int, ...] = ()
        self._phrases: dict[int, _Phrase] = {}
        if prefilter and fast and hyperscan is not None:
            self._database, self._kinds, self._phrases = _prefilter(fast, options)
        self._on_match = _on_match_for(self._kinds)

    @property
    def prefiltered(self) -> bool:
        """Whether hyperscan answers first (False: RE2 alone, same answers, slower)."""
        return self._database is not None

    def admits(self, folded: bytes) -> bool:
        """False only when none of the keys can occur in ``folded`` (fast-path bytes)."""
        if self._database is not None:
            return self._search(b" " + folded + b" ")
        return self._regex_admits(folded)

    def admits_text(self, title: str, body: str) -> bool | None:
        """Whether a key may occur in title or body; None if either needs the Unicode path."""
        padded = self.fold(title, body)
        return None if padded is None else self.admits_padded(padded)

    def fold(self, title: str, body: str) -> bytes | None:
        """Both fields' folded bytes, padded, apart; None if either needs the Unicode path.

        With the prefilter, both are folded in one pass
        (:func:`~stream.engine.text.fast_fold_fields`), split by a NUL byte; without it (or
        when a field holds a NUL) each is folded and they are joined by :data:`SEPARATOR`.
        """
        padded = fast_fold_fields(title, body) if self._database is not None else None
        if padded is None:
            title_folded, body_folded = fast_fold(title), fast_fold(body)
            if title_folded is None or body_folded is None:
                return None
            padded = b" " + title_folded + self.SEPARATOR + body_folded + b" "
        return padded

    def admits_padded(self, padded: bytes) -> bool:
        """:meth:`admits` for the bytes :meth:`fold` returns."""
        if self._database is not None:
            return self._search(padded)
        return self._regex_admits(padded)

    def admits_many(self, padded: Sequence[bytes]) -> list[bool]:
        """:meth:`admits_padded` for each of several :meth:`fold` results, in one scan.

        A scan has a fixed cost (about as much as scanning a whole article), so the articles
        of a batch are joined by :data:`BATCH_MARK`, which no literal holds, and scanned once;
        each match found is charged to the article its last byte is in. Every occurrence
        is reported (a few per admitted article), since a literal reported only once per scan
        would go unseen in the next article that holds it.
        """
        if self._database is None or len(padded) < 2:
            return [self.admits_padded(one) for one in padded]
        ends: list[tuple[int, int]] = []
        try:
            self._database.scan(BATCH_MARK.join(padded), _collect, context=ends)
        except hyperscan.ScratchInUseError:  # another thread is scanning with this gate
            return [self._regex_admits(one) for one in padded]
        answers = [False] * len(padded)
        if not ends:
            return answers
        # Where each article starts in the joined bytes: its length and a mark per article.
        starts = list(itertools.accumulate(map(_PLUS_MARK, map(len, padded)), initial=0))
        found: dict[int, dict[int, int]] = {}
        kinds = self._kinds
        for literal, end in ends:
            # By its last byte: a long run's match ends on the mark after its article.
            article = bisect.bisect_right(starts, end - 1) - 1
            kind = kinds[literal]
            end -= starts[article]
            first = found.setdefault(article, {})
            first[kind] = min(end, first.get(kind, end))
        for article, first in found.items():
            answers[article] = self._decide(padded[article], first)
        return answers

    def admits_joined(self, joined: str) -> bool:
        """False only when none of the keys occurs in a :class:`FieldText` ``joined``."""
        if self._literal is None:
            return False
        return self._literal.search(joined.encode("utf-8", "surrogatepass")) is not None

    def _search(self, padded: bytes) -> bool:
        """The prefilter's answer over folded bytes with a space at each end."""
        assert self._database is not None and self._regex is not None
        found: dict[int, int] = {}
        try:
            self._database.scan(padded, self._on_match, context=found)
        except hyperscan.ScanTerminated:  # a key was proven: the scan stopped there
            return True
        except hyperscan.ScratchInUseError:  # another thread is scanning with this gate
            return self._regex_admits(padded)
        return self._decide(padded, found)

    def _regex_admits(self, padded: bytes) -> bool:
        """RE2's answer: the reference, and the fallback when hyperscan cannot answer."""
        return self._regex is not None and self._regex.search(padded) is not None

    def _decide(self, padded: bytes, found: dict[int, int]) -> bool:
        """The answer for one article from the kinds its literals had, and where they ended."""
        if not found:
            return False
        if _PROVEN in found:
            return True
        if _LONG_RUN in found:
            return self._regex_admits(padded)
        return any(
            phrase.regex.search(padded, max(0, end - phrase.span)) is not None
            for phrase, end in ((self._phrases[kind], end) for kind, end in found.items())
        )


def build_gate(keys: Sequence[str | None], *, prefilter: bool = True) -> KeyGate | None:
    """A gate for these automaton keys, or None when no exact one exists.

    None for a ``re:`` key (a regex sees the original text, not tokens) or a key set too large
    for RE2's memory budget.
    """
    texts = [key for key in keys if key is not None]
    if len(texts) < len(keys):
        return None
    try:
        return KeyGate(texts, prefilter=prefilter)
    except re2.error:
        return None


def _key_pattern(key: str) -> str:
    """The regex body of a fast-path key: its tokens with space runs between them."""
    return " +".join(key.split()) + ("(?: |$)" if key.endswith(" ") else "")


def _collect(literal: int, start: int, end: int, flags: int, ends: object) -> None:
    """The batch scan's callback: note which literal ended where."""
    cast("list[tuple[int, int]]", ends).append((literal, end))


def _on_match_for(kinds: tuple[int, ...]) -> Callable[[int, int, int, int, object], bool]:
    """The scan callback of one database: stop at a proven key, else note what to check.

    Halting costs a raised ScanTerminated, about a microsecond, once per admitted article;
    going on would cost a callback for every other key literal in the text, dozens of them
    in an article that a thousand rules care about. The context is a dict from each kind
    found to where its first literal ended. It closes over ``kinds`` only, not the gate.
    """

    def on_match(literal: int, start: int, end: int, flags: int, found: object) -> bool:
        kind = kinds[literal]
        if kind == _PROVEN:
            return True
        first = cast("dict[int, int]", found)
        first[kind] = min(end, first.get(kind, end))
        return False

    return on_match


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A phrase too long to spell out, checked once a pair of its tokens was found.

    ``span`` bounds the bytes an occurrence takes when no space run exceeds RUN_LIMIT, so the
    check starts that far before the end of the pair's first occurrence, not at byte 0.
    """

    regex: re2._Regexp
    span: int


def _prefilter(
    keys: list[str], options: re2.Options
) -> tuple[hyperscan.Database | None, tuple[int, ...], dict[int, _Phrase]]:
    """The hyperscan database for fast-path keys, each literal's kind, and phrase checks.

    A kind is _PROVEN, _LONG_RUN or the key of the phrase to check in the dict returned.
    (None, (), {}) when hyperscan refuses the set, which leaves the gate to RE2 alone.
    """
    literals: list[bytes] = []
    kinds: list[int] = []
    phrases: dict[int, _Phrase] = {}
    for key in keys:
        tokens = key.split()
        closed = key.endswith(" ")
        spelled = spell_key(tokens, closed)
        literals.extend(spelled)
        if len(tokens) <= SPELLED_TOKENS:
            kinds.extend([_PROVEN] * len(spelled))
            continue
        kind = _FIRST_PHRASE + len(phrases)
        pattern = phrase_pattern(tokens, closed)
        span = len(pattern) + RUN_LIMIT * len(tokens)
        phrases[kind] = _Phrase(re2._Regexp(pattern, options), span)
        kinds.extend([kind] * len(spelled))
    if any(" " in key.strip() for key in keys):
        literals.append(_LONG_RUN_PATTERN)
        kinds.append(_LONG_RUN)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        # One id per literal, its index in ``kinds``: literals sharing an id compile in time
        # quadratic in their number (25 s for 8,000), distinct ones in milliseconds. Without
        # ``ids`` the binding numbers them so itself; given them, it keeps a reference to
        # each id object it reads, and every rebuild would leak the list's ints.
        # Compiled as patterns, not literals, for the long run's; the literals hold only
        # [a-z0-9 ], which patterns read as themselves, and hyperscan still finds them as
        # literals. No SINGLEMATCH: a batch scan must see a literal again in a later article.
        database.compile(expressions=literals, flags=0)
    except hyperscan.error:
        return None, (), {}
    return database, tuple(kinds), phrases
