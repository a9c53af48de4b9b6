"""All terms of all rules in one multi-pattern matcher, and conditions as small node trees.

Speed comes from scanning each article once, whatever the number of rules: every distinct
term becomes a key of one Aho-Corasick automaton over the folded token stream
(" armenia s leaders will skip "), keyed with surrounding spaces so only whole tokens match.
A prefix term (``skip*``) is keyed without its trailing space. A phrase with a prefix in the
middle ("stay* away") is keyed up to that prefix and its remaining tokens are verified after
the hit. ``re:`` terms go into one RE2 set that says which of them can match at all; only those
run individually. The result is a map term id -> occurrences, from which only the rules that
have a term hit are evaluated.
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick
import re2

from stream.engine.text import FieldText, split_term

__all__ = [
    "FIELD_NAMES",
    "Group",
    "LogicNode",
    "Matcher",
    "NearNode",
    "Node",
    "Occ",
    "Prescan",
    "TermSpec",
    "TermTable",
    "term_error",
]

FIELD_NAMES: tuple[str, str] = ("title", "body")
_SECOND = operator.itemgetter(1)
_MISPLACED_STAR = re.compile(r"\*(?=[^\W_])|(?<![^\W_])\*")


class Occ(NamedTuple):
    """One occurrence of a term: field index, token range, and char range for ``re:`` terms."""

    field: int
    first: int
    last: int  # exclusive
    term: int
    start: int = -1
    end: int = -1


@dataclass(frozen=True, slots=True)
class TermSpec:
    """A distinct term: its text as written, folded parts, or its regular expression."""

    id: int
    text: str
    parts: tuple[tuple[str, bool], ...]
    regex: str | None


def term_error(text: str) -> str | None:
    """Why ``text`` is not a usable term, or None."""
    if text.startswith("re:"):
        pattern = text[3:]
        if not pattern:
            return "empty regular expression after 're:'"
        try:
            re2.compile(pattern, _re_options())
        except re2.error as exc:
            detail = exc.args[0] if exc.args else ""
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            return (
                f"bad regular expression {pattern!r} ({detail}); fix it in RE2 syntax "
                "(no lookaround or backreferences)"
            )
        return None
    parts = split_term(text)
    if not parts:
        return f"term {text!r} has no letters or digits; write a word or a phrase"
    if _MISPLACED_STAR.search(text):
        return f"term {text!r}: '*' is only allowed at the end of a word (e.g. skip*)"
    for token, is_prefix in parts:
        if is_prefix and len(token) < 3:
            return f"prefix '{token}*' is too short (3+ letters); it would match too many words"
    return None


def _re_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


class TermTable:
    """Interns terms, so the same term used by many rules is matched once."""

    def __init__(self) -> None:
        self.terms: list[TermSpec] = []
        self._ids: dict[tuple[object, ...], int] = {}
        self._by_text: dict[str, int] = {}

    def lookup(self, text: str) -> int | None:
        """Id of a term already interned with exactly this text."""
        return self._by_text.get(text)

    def intern(self, text: str) -> int:
        """Id of ``text`` (which must have passed :func:`term_error`)."""
        if text.startswith("re:"):
            key: tuple[object, ...] = ("re", text[3:])
            parts: tuple[tuple[str, bool], ...] = ()
            regex: str | None = text[3:]
        else:
            parts = tuple(split_term(text))
            key = ("t", parts)
            regex = None
        found = self._ids.get(key)
        if found is not None:
            self._by_text[text] = found
            return found
        ident = len(self.terms)
        self.terms.append(TermSpec(ident, text, parts, regex))
        self._ids[key] = ident
        self._by_text[text] = ident
        return ident


class _Entry(NamedTuple):
    term: int
    key_len: int  # characters of the automaton key
    key_tokens: int  # tokens covered by the key
    rest: tuple[tuple[str, bool], ...]  # tokens verified after the hit


class Matcher:
    """One scan of an article's fields finds every occurrence of every term."""

    def __init__(self, table: TermTable) -> None:
        self.table = table
        keyed: dict[str, list[_Entry]] = defaultdict(list)
        self._regexes: list[tuple[int, re2._Regexp]] = []
        for spec in table.terms:
            if spec.regex is not None:
                self._regexes.append((spec.id, re2.compile(spec.regex, _re_options())))
                continue
            cut = next((i for i, (_, pre) in enumerate(spec.parts) if pre), None)
            head = spec.parts if cut is None else spec.parts[: cut + 1]
            key = " " + " ".join(tok for tok, _ in head) + (" " if cut is None else "")
            rest = () if cut is None else spec.parts[cut + 1 :]
            keyed[key].append(_Entry(spec.id, len(key), len(head), rest))
        self._automaton: ahocorasick.Automaton | None = None
        # The automaton's value is a small int (an index into ``_entries``), so a first pass
        # can collect the keys an article contains without touching Python objects per hit.
        self._entries: list[tuple[_Entry, ...]] = []
        self._key_texts: list[str] = []
        if keyed:
            automaton = ahocorasick.Automaton()
            for pattern, entries in keyed.items():
                automaton.add_word(pattern, len(self._entries))
                self._entries.append(tuple(entries))
                self._key_texts.append(pattern)
            automaton.make_automaton()
            self._automaton = automaton
        # Every term has one key: its automaton key, or for a regex a key after those.
        self.key_of: dict[int, int] = {}
        for key_id, key_entries in enumerate(self._entries):
            for entry in key_entries:
                self.key_of[entry.term] = key_id
        self._regex_key_base = len(self._entries)
        for position, (term, _) in enumerate(self._regexes):
            self.key_of[term] = self._regex_key_base + position
        self._set: re2.Set | None = None
        if self._regexes:
            regex_set = re2.Set.SearchSet(_re_options())
            for _, compiled in self._regexes:
                regex_set.Add(compiled.pattern)
            regex_set.Compile()
            self._set = regex_set

    def key_terms(self, key: int) -> list[tuple[int, bool]]:
        """The terms behind ``key``, each flagged True when tokens follow the key ("walk* out":
        the key " walk" proves only that the term *may* occur)."""
        if key >= self._regex_key_base:
            return [(self._regexes[key - self._regex_key_base][0], False)]
        return [(entry.term, bool(entry.rest)) for entry in self._entries[key]]

    def key_text(self, key: int) -> str | None:
        """The automaton key (" a b " or " pre"), or None for a ``re:`` key."""
        return None if key >= self._regex_key_base else self._key_texts[key]

    def prescan(self, fields: list[FieldText]) -> Prescan:
        """Keys (see ``key_of``) present in the article, found at C speed.

        A key present means its terms *may* occur (a phrase still needs its tail verified);
        that is enough to rule out most rules before any occurrence is built.
        """
        regex_hits: list[list[int]] = []
        key_hits: list[list[tuple[int, int]]] = []
        present: set[int] = set()
        automaton = self._automaton
        base = self._regex_key_base
        for field_text in fields:
            found: list[tuple[int, int]] = []
            if automaton is not None:
                # Kept (a few dozen small tuples) so that occurrences need no second scan.
                found = list(automaton.iter(field_text.joined))
                present.update(map(_SECOND, found))
            key_hits.append(found)
            matched: list[int] = []
            if self._set is not None and field_text.text:
                matched = sorted(self._set.Match(field_text.text) or ())
                present.update(base + i for i in matched)
            regex_hits.append(matched)
        return Prescan(fields, regex_hits, present, key_hits)

    def occurring_terms(self, prescan: Prescan, keys: Iterable[int]) -> set[int]:
        """Terms behind ``keys`` that occur at least once (a superset for ``re:`` terms).

        Cheaper than :meth:`occurrences`, to rule out rules before building any: a term
        keyed whole occurs wherever its key does, so only a phrase tail after a prefix
        ("walk* out" on a hit of " walk") is verified, and no occurrence list is built. A
        ``re:`` term counts when the regex set matched, even if only empty matches follow.
        """
        present = prescan.present
        base = self._regex_key_base
        found: set[int] = set()
        tails: dict[int, list[_Entry]] = {}
        for key in keys:
            if key not in present:
                continue
            if key >= base:
                found.add(self._regexes[key - base][0])
                continue
            for entry in self._entries[key]:
                if entry.rest:
                    tails.setdefault(key, []).append(entry)
                else:
                    found.add(entry.term)
        if not tails:
            return found
        for index, field_text in enumerate(prescan.fields):
            for end, key in prescan.key_hits[index]:
                joined = field_text.joined
                for entry in tails.get(key, ()):
                    if entry.term not in found and _tail_follows(joined, end, entry.rest):
                        found.add(entry.term)
        return found

    def occurrences(
        self, prescan: Prescan, keys: frozenset[int] | set[int] | None = None
    ) -> dict[int, list[Occ]]:
        """Term id -> verified occurrences (in field, then text order), for ``keys`` only."""
        hits: dict[int, list[Occ]] = {}
        entries_of = self._entries
        base = self._regex_key_base
        for index, field_text in enumerate(prescan.fields):
            for end, key in prescan.key_hits[index]:
                if keys is not None and key not in keys:
                    continue
                for entry in entries_of[key]:
                    if entry.rest and not _tail_follows(field_text.joined, end, entry.rest):
                        continue
                    first = field_text.token_at_joined(end - entry.key_len + 2)
                    last = first + entry.key_tokens + len(entry.rest)
                    hits.setdefault(entry.term, []).append(Occ(index, first, last, entry.term))
            for which in prescan.regex_hits[index]:
                if keys is not None and base + which not in keys:
                    continue
                term, compiled = self._regexes[which]
                for found in compiled.finditer(field_text.text):
                    start, end = found.span()
                    if end <= start:
                        continue
                    first = field_text.token_at_char(start)
                    last = max(first + 1, field_text.token_at_char(end))
                    hits.setdefault(term, []).append(Occ(index, first, last, term, start, end))
        for occs in hits.values():
            occs.sort()
        return hits

    def scan(self, fields: list[FieldText]) -> dict[int, list[Occ]]:
        """Term id -> occurrences, in one call (prescan, then verify)."""
        return self.occurrences(self.prescan(fields))


class Prescan(NamedTuple):
    """First-pass result: the fields, regex set hits per field, the keys present, and the
    automaton's (end, key) hits per field."""

    fields: list[FieldText]
    regex_hits: list[list[int]]
    present: set[int]
    key_hits: list[list[tuple[int, int]]]



def _tail_follows(joined: str, end: int, rest: tuple[tuple[str, bool], ...]) -> bool:
    """Whether the tokens after a prefix key's hit (ending at ``end`` of ``joined``) are
    ``rest``, checked in place: ``joined`` is one space between tokens and one at each end."""
    space = joined.find(" ", end + 1)  # ends the token the prefix began
    for token, is_prefix in rest:
        start = space + 1
        if not joined.startswith(token, start):
            return False
        after = start + len(token)  # < len(joined): joined ends with a space
        space = joined.find(" ", after) if is_prefix else after
        if joined[space] != " ":
            return False
    return True


@dataclass(frozen=True, slots=True)
class Group:
    """Alternatives that count as one item: a term, or every term of a ``$list``."""

    label: str
    terms: frozenset[int]


@dataclass(frozen=True, slots=True)
class LogicNode:
    """``any`` / ``all`` / ``none`` over groups and nested nodes, restricted to ``fields``."""

    op: str
    items: tuple[Group | Node, ...]
    fields: frozenset[int]


@dataclass(frozen=True, slots=True)
class NearNode:
    """A term of every group within ``within`` tokens, in one sentence unless ``across``."""

    groups: tuple[Group, ...]
    within: int
    across: bool
    fields: frozenset[int]


Node = LogicNode | NearNode


def required_groups(node: Node) -> list[frozenset[int]]:
    """Term sets of which at least one term must occur for ``node`` to hold.

    Used to skip rules cheaply: a rule is evaluated only if every required set has a hit.
    """
    if isinstance(node, NearNode):
        return [group.terms for group in node.groups]
    if node.op == "none":
        return []
    if node.op == "all":
        out: list[frozenset[int]] = []
        for item in node.items:
            out.extend([item.terms] if isinstance(item, Group) else required_groups(item))
        return out
    union: set[int] = set()
    for item in node.items:
        if isinstance(item, Group):
            union |= item.terms
            continue
        needed = required_groups(item)
        if not needed:
            return []
        union |= min(needed, key=len)
    return [frozenset(union)]
