"""Where sentences start, for ``near`` inside one sentence.

A sentence ends at a full stop, "!", "?" or an ellipsis (closed by quotes or brackets, if
any) followed by white space and a capital, a digit or an opening quote, or at a line break;
a full stop after a known abbreviation ("Mr.", "Jan.") or a single letter ("J. Smith") ends
none.
"""

from __future__ import annotations

import re

__all__ = ["CLOSERS", "OPENERS", "SENTENCE_END", "sentence_breaks"]

# A sentence ends at . ! ? (possibly closed by quotes or brackets) followed by space and a
# capital, digit or opening quote; or at a line break.
CLOSERS = "\"'\u2019\u201d)]"
OPENERS = "\"'\u2018\u201c(["
# Written to start with one character class (and the line-break case told apart by a
# lookbehind) so the regex engine skips ahead to candidate characters instead of trying both
# alternatives at every position: the same matches, about four times faster.
SENTENCE_END = re.compile(
    rf"[.!?\u2026\n](?:(?<=\n)\n*|[{re.escape(CLOSERS)}]*\s+"
    rf"(?=[{re.escape(OPENERS)}]?[A-Z0-9À-Þ]))"
)
_WORD_SPLIT = re.compile(rf"[\s{re.escape(OPENERS)}]")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "prof", "gen", "col", "lt", "sgt", "capt", "cmdr",
        "gov", "sen", "rep", "rev", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "no",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "fig", "approx", "dept", "est",
    }
)


def sentence_breaks(text: str) -> list[int]:
    """Character offsets where a new sentence starts."""
    breaks: list[int] = []
    for match in SENTENCE_END.finditer(text):
        if "\n" in match.group():
            breaks.append(match.end())
            continue
        before = text[max(0, match.start() - 12) : match.start() + 1].rstrip(CLOSERS)
        word = _WORD_SPLIT.split(before)[-1].rstrip(".!?\u2026").lower()
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        breaks.append(match.end())
    return breaks
