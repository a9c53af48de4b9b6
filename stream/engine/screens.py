"""Screens for articles the gate admitted: which keys and tails may occur, before tokenizing.

The gate (:mod:`stream.engine.gate`) answers whether any anchor key occurs. Once it admits an
article, the tokenizer and the automaton still cost about 100 µs, only to learn, for most
admitted articles, that some other key a candidate rule requires is missing. Two screens
answer that from the same folded bytes (:meth:`~stream.engine.gate.KeyGate.fold`), each in
one hyperscan scan: :class:`KeyPresence` for every required key, :class:`TailScreen` for the
terms that go on after a prefix. Both are exact for what they can spell and report the rest,
so a rule they rule out cannot fire. Without hyperscan, or if it refuses a set, they are not
built and every rule goes on to the tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import cast

import re2

from stream.engine.spelling import (
    FAST_TOKEN,
    RUN_LIMIT,
    SPELLED_TOKENS,
    phrase_pattern,
    spell_key,
)

try:
    import hyperscan
except ImportError:  # pragma: no cover - a platform without hyperscan wheels
    hyperscan = None  # type: ignore[assignment]

__all__ = ["KeyPresence", "TailScreen", "build_presence", "build_tails"]

# KeyPresence's label for a long space run; automaton keys are numbered from 0.
_LONG_RUN_KEY = -1
_LONG_RUN = b" " * (RUN_LIMIT + 1)
_LONG_RUNS = re.compile(b" {%d,}" % (RUN_LIMIT + 1))


class KeyPresence:
    """Which automaton keys occur in :meth:`KeyGate.fold` bytes, in one scan.

    Once the gate admits an article, it still takes the tokenizer and the automaton (about
    100 µs) to learn that most admitted articles lack some other key every candidate rule
    requires. The same literals as the gate's, for every required key, answer that first,
    exactly for every key that can be spelled: keys of up to three tokens by their literals,
    a longer phrase by a pair of its tokens and then its own regex. Text with a space run
    longer than the literals spell (about 1 article in 100) is scanned again with its runs cut to
    :data:`RUN_LIMIT` spaces, which leaves its tokens as they were. Keys that cannot be
    spelled (``re:`` terms, non-ASCII tokens) are always reported.
    """

    def __init__(self, keys: dict[int, str | None]) -> None:
        literals: list[bytes] = []
        self._kinds: list[int] = []
        always = set()
        spaced = False  # whether a key has a space between tokens, which a long run may hold
        phrases: dict[int, re2._Regexp] = {}
        options = re2.Options()
        options.log_errors = False
        for key, text in keys.items():
            tokens = [] if text is None else text.split()
            if text is None or not all(map(FAST_TOKEN.fullmatch, tokens)):
                always.add(key)
                continue
            closed = text.endswith(" ")
            spaced = spaced or len(tokens) > 1
            if len(tokens) > SPELLED_TOKENS:
                # Built directly: re2.compile's module-wide cache would keep it after reloads.
                phrases[key] = re2._Regexp(phrase_pattern(tokens, closed), options)
            spelled = spell_key(tokens, closed)
            literals.extend(spelled)
            self._kinds.extend([key] * len(spelled))
        self.always = frozenset(always)
        self._phrases = phrases
        self._phrase_keys = frozenset(phrases)
        if spaced:
            literals.append(_LONG_RUN)
            self._kinds.append(_LONG_RUN_KEY)
        self._labels = _LabelScan(literals, self._kinds, literal=True)

    def present(self, padded: bytes) -> set[int] | None:
        """Every key that occurs (and every unspellable one); None if the scratch is busy."""
        found = self._labels.scan(padded, self.always)
        if found is not None and _LONG_RUN_KEY in found:
            padded = _LONG_RUNS.sub(b" " * RUN_LIMIT, padded)
            found = self._labels.scan(padded, self.always)
        if found is None:
            return None
        for key in found & self._phrase_keys:  # only a pair of its tokens was seen
            if self._phrases[key].search(padded) is None:
                found.discard(key)
        return found


class TailScreen:
    """Which terms going on after a prefix ("walk* out", keyed " walk") occur in
    :meth:`KeyGate.fold` bytes: exact, in one hyperscan scan of one regex per term.

    The presence screen can say only that " walk" may occur; most admitted articles that
    still cannot fire hold such a key without its tail ("walked in", not "walked out"), and
    learning that from the bytes costs a few microseconds, where the tokenizer and the
    automaton cost about 100. A term with a token that cannot be spelled in folded bytes is
    always reported (a superset is all a screen needs).
    """

    def __init__(self, terms: Mapping[int, Sequence[tuple[str, bool]]]) -> None:
        patterns: list[bytes] = []
        self._ids: list[int] = []
        always: set[int] = set()
        for term, parts in terms.items():
            if not parts or not all(FAST_TOKEN.fullmatch(token) for token, _ in parts):
                always.add(term)
                continue
            last = len(parts) - 1
            pattern = (
                " "
                + " +".join(
                    token + ("[a-z0-9]*" if prefix and i < last else "")
                    for i, (token, prefix) in enumerate(parts)
                )
                + ("" if parts[last][1] else " ")
            )
            patterns.append(pattern.encode("ascii"))
            self._ids.append(term)
        self.always = frozenset(always)
        self._labels = _LabelScan(patterns, self._ids, literal=False)

    def occurring(self, padded: bytes) -> set[int] | None:
        """The terms that occur in ``padded`` (a superset); None if the scratch is busy."""
        return self._labels.scan(padded, self.always)


class _LabelScan:
    """One hyperscan database whose matches collect their expressions' labels into a set.

    Each expression reports once per scan (SINGLEMATCH); the scan answers None when another
    thread holds the database's scratch space, so that the caller can say it cannot tell.
    """

    def __init__(self, expressions: list[bytes], labels: list[int], *, literal: bool) -> None:
        self.database: hyperscan.Database | None = None
        if expressions:
            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            database.compile(
                expressions=expressions, flags=hyperscan.HS_FLAG_SINGLEMATCH, literal=literal
            )
            self.database = database

        def on_match(expression: int, start: int, end: int, flags: int, found: object) -> None:
            cast("set[int]", found).add(labels[expression])

        self._on_match = on_match

    def scan(self, padded: bytes, start: frozenset[int]) -> set[int] | None:
        """``start`` and the labels of every expression found in ``padded``, or None."""
        found = set(start)
        if self.database is None:
            return found
        try:
            self.database.scan(padded, self._on_match, context=found)
        except hyperscan.ScratchInUseError:
            return None
        return found


def build_tails(terms: Mapping[int, Sequence[tuple[str, bool]]]) -> TailScreen | None:
    """A tail screen for these terms, or None without hyperscan, terms, or if refused."""
    if hyperscan is None or not terms:
        return None
    try:
        return TailScreen(terms)
    except hyperscan.error:
        return None


def build_presence(keys: dict[int, str | None]) -> KeyPresence | None:
    """A presence screen for these automaton keys, or None without hyperscan or if refused."""
    if hyperscan is None:
        return None
    try:
        return KeyPresence(keys)
    except hyperscan.error:
        return None
