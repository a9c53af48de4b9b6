"""How keys stand in folded bytes: the tokens, the space runs between them, the literals.

Folded fast-path text (:func:`~stream.engine.text.fast_fold`) holds lowercase ASCII tokens
separated by runs of spaces. The gate and the screens spell a key of a few tokens out as
plain literals, one per run length, so that a literal matcher finds it without a regex.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

__all__ = ["FAST_TOKEN", "RUN_LIMIT", "SPELLED_TOKENS", "phrase_pattern", "spell", "spell_key"]

# Folded fast-path fields hold only these tokens; a key with any other token cannot occur.
FAST_TOKEN = re.compile(r"[a-z0-9]+")
# Space runs between two tokens that are spelled out: folded news has runs of up to four or
# five (a full stop, line breaks and a quote), rarely more (18 of 2,225 articles).
RUN_LIMIT = 6
# Keys of up to this many tokens are spelled out with every run (6 and 36 literals for two
# and three tokens); longer phrases are found by one pair of tokens, then checked.
SPELLED_TOKENS = 3


def spell(tokens: Sequence[str], closed: bool) -> list[bytes]:
    """Every way ``tokens`` can stand in folded bytes with runs of at most RUN_LIMIT spaces."""
    runs = itertools.product(range(1, RUN_LIMIT + 1), repeat=len(tokens) - 1)
    tail = " " if closed else ""
    return [
        (
            " " + "".join(t + " " * r for t, r in zip(tokens, (*spaces, 0), strict=True)) + tail
        ).encode("ascii")
        for spaces in runs
    ]


def _pair_rarity(pair: Sequence[str]) -> tuple[int, int]:
    """How rare two adjacent tokens look: by the shorter one ("of", "the"), then the length."""
    return min(map(len, pair)), sum(map(len, pair))


def spell_key(tokens: Sequence[str], closed: bool) -> list[bytes]:
    """The literals that find a key: all of it when it is short, else its rarest-looking pair.

    The literals of a key of up to :data:`SPELLED_TOKENS` tokens prove it occurs; those of a
    longer phrase only that it may (the pair is necessary, not sufficient).
    """
    if len(tokens) <= SPELLED_TOKENS:
        return spell(tokens, closed)
    first = max(range(len(tokens) - 1), key=lambda i: _pair_rarity(tokens[i : i + 2]))
    return spell(tokens[first : first + 2], closed or first + 2 < len(tokens))


def phrase_pattern(tokens: Sequence[str], closed: bool) -> bytes:
    """The regex that finds a phrase whole in folded bytes, whatever its space runs."""
    return (" " + " +".join(tokens) + (" " if closed else "")).encode("ascii")
