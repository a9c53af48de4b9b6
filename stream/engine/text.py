"""Text normalisation, tokens and sentences, shared by rule terms and articles.

Terms and article text go through the *same* tokenizer and folding, so whatever an analyst
types ("Armenia's" with a curly apostrophe, "no-show", "CAFÉ") lines up with what journalists
write. Matching works on whole tokens: a token is a run of letters, digits or combining
marks; everything else (spaces, punctuation, hyphens, apostrophes) separates tokens, which is
why "no-show" and "no show" are the same phrase and "Armenia's" contains "armenia".

Folding = NFKC, case folding, then stripping diacritics, so "Arménia", "ARMENIA" and
"armenia" are one token. Article offsets are kept in the original string, so evidence points
at the characters the reader sees.

Most English news has no non-ASCII *word* character but letters that fold to one ASCII
letter ("£", "—" and curly quotes separate tokens anyway, and "é" or the "ğ" of Erdoğan fold
to "e" and "g" character for character), so :func:`fast_fold` turns such a field into folded
bytes with a few C-level passes; the rule set's early-reject gate searches those bytes before
any token list exists. Only a word character that folds to something else ("ß", "ł",
Cyrillic) sends a field to the Unicode tokenizer.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import InitVar, dataclass, field
from functools import lru_cache

import numpy

from stream.engine.sentences import sentence_breaks

__all__ = [
    "FIELD_MARK",
    "FieldText",
    "fast_fold",
    "fast_fold_fields",
    "fold",
    "split_term",
    "tokenize",
]

# Combining marks are part of a word ("e" + U+0301), so they must not split a token.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# A word character, then word characters and marks; or a run of marks alone. Written as runs
# without capturing groups: the same matches, found about a third faster.
_TOKEN = re.compile(rf"[^\W_]+(?:[{_MARKS}]+[^\W_]*)*|[{_MARKS}]+")
_TOKEN_CLEAN = re.compile(r"[^\W_]+")
# A non-ASCII character that can be part of a token. Text without one (English with "£",
# "—" or curly quotes) tokenizes exactly like ASCII text, on the fast path.
_NON_ASCII_WORDISH = re.compile(rf"[^\W\x00-\x7f]|[{_MARKS}]")
# The same past U+00FF, where the Latin-1 fold table cannot help.
_WIDE_WORDISH = re.compile(rf"[^\W\x00-\xff]|[{_MARKS}]")
_ASCII_BYTES = bytes(range(128))
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))
_PLUS_ONE = (1).__add__
# Token lookups answered by counting spaces before FieldText indexes all token offsets.
_COUNTED_LOOKUPS = 24
# bytes -> bytes: ASCII letters lowercased, digits kept, everything else a space.
_ASCII_FOLD = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256)
)
# The same, except that NUL stays NUL: fast_fold_fields marks where one field ends with it.
FIELD_MARK = 0
_FIELDS_FOLD = bytes([FIELD_MARK]) + _ASCII_FOLD[1:]
# For Latin-1 text, one byte per character (the tables are built below, after ``fold``).
_WORDISH = 1
_TERM_PART = re.compile(rf"((?:[^\W_]|[{_MARKS}])+)(\*?)")

@lru_cache(maxsize=65536)
def fold(token: str) -> str:
    """Fold one token: compatibility forms, case and diacritics all compare equal."""
    if token.isascii():
        return token.lower()
    text = unicodedata.normalize("NFKC", token).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _ascii_letter(char: str) -> str | None:
    """The one ASCII letter or digit ``char`` folds to, if it folds to one."""
    folded = fold(char)
    return folded if len(folded) == 1 and folded.isascii() and folded.isalnum() else None


def _latin1_byte(code: int) -> int:
    """What the Latin-1 fold table makes of character ``code`` (0x80-0xff).

    A letter or digit that folds to one ASCII one ("é", "Ä", "ª", "²") becomes it, so the
    text keeps one byte per character and its tokens are the Unicode tokenizer's; any other
    word character ("ß" folds to two letters, "ø" to itself, "½" to three characters)
    becomes _WORDISH, which no other byte folds to; the rest (signs, punctuation) a space.
    """
    char = chr(code)
    if _NON_ASCII_WORDISH.fullmatch(char) is None:
        return 32
    letter = _ascii_letter(char)
    return _WORDISH if letter is None else ord(letter)


_LATIN1_FOLD = _ASCII_FOLD[:128] + bytes(map(_latin1_byte, range(128, 256)))
_LATIN1_FIELDS_FOLD = bytes([FIELD_MARK]) + _LATIN1_FOLD[1:]


def fast_fold(text: str) -> bytes | None:
    """``text`` as bytes of ``[a-z0-9 ]`` (tokens lowercased, separators blanked), or None.

    None means the text has a non-ASCII word character that does not fold to one ASCII
    letter or digit ("ß", "ł", Cyrillic, a combining mark) and needs the Unicode tokenizer;
    letters such as "é" or "ğ" fold to theirs. The bytes hold exactly the folded tokens,
    separated by runs of spaces rather than one space (one byte per character of the text).
    """
    return _fold_bytes(text, _ASCII_FOLD, _LATIN1_FOLD)


def fast_fold_fields(title: str, body: str) -> bytes | None:
    """``b" " + fast_fold(title) + b" \\0 " + fast_fold(body) + b" "`` in one pass, or None.

    None when either field needs the Unicode tokenizer, or holds a NUL itself (then the
    caller folds the fields apart). The NUL byte (:data:`FIELD_MARK`) is no token character
    and no space, so nothing that matches tokens and the spaces between them crosses it.
    """
    if "\0" in title or "\0" in body:
        return None
    return _fold_bytes(f" {title} \0 {body} ", _FIELDS_FOLD, _LATIN1_FIELDS_FOLD)


def _fold_bytes(text: str, table: bytes, latin1_table: bytes) -> bytes | None:
    if text.isascii():
        return text.encode("ascii").translate(table)
    try:
        # Text with "£" or "é" but nothing past U+00FF (most non-ASCII English news): copied
        # as one byte per character, accents folded and other word characters flagged by the
        # same table pass.
        folded = text.encode("latin-1").translate(latin1_table)
    except UnicodeEncodeError:
        # Past U+00FF (curly quotes, dashes, "ğ", Cyrillic).
        # Every byte of a multi-byte UTF-8 sequence is >= 0x80, so deleting the ASCII bytes
        # leaves the non-ASCII characters (lone surrogates too) to look at.
        encoded = text.encode("utf-8", "surrogatepass")
        rest = encoded.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
        if _NON_ASCII_WORDISH.search(rest) is None:
            # No non-ASCII word character at all (typographic quotes and dashes, "€" in
            # English news): each such character becomes one space, its lead byte mapped by
            # the table and its continuation bytes deleted, in the same pass. Still one byte
            # per character, and about 2 µs sooner than the Latin-1 copy below for 2.4 KB.
            return encoded.translate(table, _UTF8_CONTINUATION)
        for char in set(_WIDE_WORDISH.findall(rest)):
            # A letter past U+00FF that folds to one ASCII letter ("ğ" in Erdoğan, "š" in
            # Babiš, "İ") is spelled as that letter, one character for one, so offsets stay
            # put; any other word character there ("ł", Cyrillic, a combining mark) needs
            # the Unicode tokenizer.
            letter = _ascii_letter(char)
            if letter is None:
                return None
            text = text.replace(char, letter)
        # Each other character past U+00FF is copied as "?", a separator.
        folded = text.encode("latin-1", "replace").translate(latin1_table)
    return None if _WORDISH in folded else folded


def tokenize(text: str) -> list[str]:
    """Folded tokens of ``text`` (no offsets: used for terms and quick checks)."""
    return FieldText(text).tokens


def split_term(term: str) -> list[tuple[str, bool]]:
    """Split a term into folded tokens, each flagged True when it ends in ``*`` (a prefix).

    Folding a part can itself yield several tokens (NFKC turns some symbols into "1/2"), in
    which case only the last keeps the prefix flag.
    """
    parts: list[tuple[str, bool]] = []
    for match in _TERM_PART.finditer(term):
        folded = _TOKEN_CLEAN.findall(fold(match.group(1)))
        for i, piece in enumerate(folded):
            parts.append((piece, bool(match.group(2)) and i == len(folded) - 1))
    return parts


@dataclass(slots=True)
class FieldText:
    """One field of an article (title or body) prepared for matching.

    ``joined`` is the folded tokens separated by single spaces, with a space at both ends, so
    a multi-pattern automaton finds whole-token phrases by searching for " a b ". ``folded``
    is :func:`fast_fold` of the text when the caller has it already. Offsets into
    the original text (``spans``) and sentence numbers are computed only when a rule needs
    them: most articles match nothing and never pay for them.
    """

    text: str
    folded: InitVar[bytes | None] = None
    joined: str = field(init=False)
    _tokens: list[str] | None = field(init=False, default=None)
    _starts: list[int] | None = field(init=False, default=None)
    _ends: list[int] | None = field(init=False, default=None)
    _sentence_breaks: list[int] | None = field(init=False, default=None)
    _token_offsets: list[int] | None = field(init=False, default=None)
    _unicode: bool = field(init=False, default=False)
    _joined_lookups: int = field(init=False, default=0)
    _folded: bytes | None = field(init=False, default=None)

    def __post_init__(self, folded: bytes | None) -> None:
        text = self.text
        if folded is None:
            folded = fast_fold(text)
        if folded is not None:
            # Fast path (most English news): every non-ASCII character is a separator or an
            # accented letter, so one byte-table pass folds case and accents and blanks
            # separators. Token lengths are unchanged, so offsets can later be computed
            # arithmetically.
            self.joined = " " + " ".join(folded.decode("ascii").split()) + " "
            self._folded = folded
        else:
            # Offsets are found again only if a rule gets that far (_unicode_offsets).
            tokens = _unicode_tokens(text)
            self._tokens = tokens
            self._unicode = True
            self.joined = " " + " ".join(tokens) + " "

    @property
    def tokens(self) -> list[str]:
        """Folded tokens in text order."""
        if self._tokens is None:
            self._tokens = self.joined.split()
        return self._tokens

    def _offsets(self) -> tuple[list[int], list[int]]:
        if (self._starts is None or self._ends is None) and self._unicode:
            self._starts, self._ends = _unicode_offsets(self.text)
        if self._starts is None or self._ends is None:
            # fast_fold keeps one byte per character (accents folded to their ASCII letter,
            # other signs blanked), so the tokens' byte offsets are their character offsets.
            assert self._folded is not None
            self._starts, self._ends = _run_offsets(self._folded)
        return self._starts, self._ends

    @property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) of every token in the original text."""
        starts, ends = self._offsets()
        return list(zip(starts, ends, strict=True))

    def token_at_joined(self, pos: int) -> int:
        """Index of the token that starts at character ``pos`` of ``joined``."""
        if self._token_offsets is None and 0 < pos < len(self.joined):
            self._joined_lookups += 1
            if self._joined_lookups <= _COUNTED_LOOKUPS:
                # joined = " t0 t1 ...": the spaces before pos number the tokens. For the few
                # hits of most articles this beats indexing every token.
                spaces = self.joined.count(" ", 0, pos)
                return spaces - 1 if self.joined[pos - 1] == " " else spaces
        if self._token_offsets is None:
            steps = map(_PLUS_ONE, map(len, self.tokens))
            self._token_offsets = list(itertools.accumulate(steps, initial=1))
        return bisect.bisect_left(self._token_offsets, pos)

    def token_at_char(self, pos: int) -> int:
        """Index of the first token starting at or after character ``pos`` of the text."""
        starts, _ = self._offsets()
        return bisect.bisect_left(starts, pos)

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Original-text offsets covering tokens ``first`` .. ``last - 1``."""
        starts, ends = self._offsets()
        if not starts:
            return (0, 0)
        first = min(first, len(starts) - 1)
        last = max(first + 1, min(last, len(starts)))
        return starts[first], ends[last - 1]

    def sentence_of(self, token: int) -> int:
        """Sentence number of a token (0-based), for ``near`` inside one sentence."""
        if self._sentence_breaks is None:
            self._sentence_breaks = sentence_breaks(self.text)
        if not self._sentence_breaks:
            return 0
        starts, _ = self._offsets()
        if not starts:
            return 0
        return bisect.bisect_right(self._sentence_breaks, starts[min(token, len(starts) - 1)])

    def sentence_of_char(self, pos: int) -> int:
        """Sentence number of a character offset."""
        if self._sentence_breaks is None:
            self._sentence_breaks = sentence_breaks(self.text)
        return bisect.bisect_right(self._sentence_breaks, pos)

    def snippet(self, start: int, end: int, width: int = 60) -> str:
        """A one-line excerpt around ``start:end``, cut at word boundaries where possible."""
        text = self.text
        left = max(0, start - width)
        right = min(len(text), end + width)
        if left > 0:
            space = text.find(" ", left, start)
            left = space + 1 if space != -1 else left
        if right < len(text):
            space = text.rfind(" ", end, right)
            right = space if space != -1 else right
        excerpt = " ".join(text[left:right].split())
        prefix = "…" if left > 0 else ""
        suffix = "…" if right < len(text) else ""
        return f"{prefix}{excerpt}{suffix}"


def _run_offsets(folded: bytes) -> tuple[list[int], list[int]]:
    """Start and end offsets of the runs of non-space bytes in ``folded``.

    Found in bulk: where "is a token byte" flips from 0 to 1 a token starts, and where it
    flips back it ends (a 25,000-character body in about a quarter of the time that
    splitting at spaces and summing the pieces' lengths took).
    """
    inside = numpy.zeros(len(folded) + 2, dtype=numpy.int8)
    numpy.not_equal(numpy.frombuffer(folded, dtype=numpy.uint8), 32, out=inside[1:-1].view(bool))
    flips = numpy.diff(inside)
    starts: list[int] = numpy.flatnonzero(flips == 1).tolist()
    ends: list[int] = numpy.flatnonzero(flips == -1).tolist()
    return starts, ends


def _fold_token(raw: str) -> str:
    return raw.lower() if raw.isascii() else fold(raw)


def _unicode_tokens(text: str) -> list[str]:
    """Folded tokens of text with non-ASCII word characters (no offsets: few need them).

    No token spans whitespace, so the text is cut at whitespace first: words without a
    non-ASCII word character (most of them, even in French or German news) are folded by the
    byte table in bulk, and only the others go through the token regex one word at a time.
    """
    tokens: list[str] = []
    plain: list[str] = []
    for word in text.split():
        if word.isascii() or _NON_ASCII_WORDISH.search(word) is None:
            plain.append(word)
            continue
        if plain:
            tokens.extend(_byte_fold_tokens(plain))
            plain = []
        tokens.extend(_regex_tokens(word))
    if plain:
        tokens.extend(_byte_fold_tokens(plain))
    return tokens


def _byte_fold_tokens(words: list[str]) -> list[str]:
    folded = " ".join(words).encode("utf-8", "surrogatepass").translate(_ASCII_FOLD)
    return folded.decode("ascii").split()


def _regex_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    append = tokens.append
    for raw in _TOKEN.findall(text):
        if raw.isascii():
            append(raw.lower())  # letters and digits only: folds to itself, lowercased
            continue
        folded = fold(raw)
        if folded.isalnum():
            append(folded)
        else:
            tokens.extend(_TOKEN_CLEAN.findall(folded))
    return tokens


def _unicode_offsets(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets matching :func:`_unicode_tokens` one for one.

    A raw token that folds into several pieces ("½" into "1", "2") gives each piece its span.
    """
    starts: list[int] = []
    ends: list[int] = []
    for match in _TOKEN.finditer(text):
        folded = _fold_token(match.group())
        pieces = 1 if folded.isalnum() else len(_TOKEN_CLEAN.findall(folded))
        start, end = match.span()
        starts.extend([start] * pieces)
        ends.extend([end] * pieces)
    return starts, ends
