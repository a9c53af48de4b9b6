"""Evaluating one compiled rule against an article's term occurrences.

The matcher has already found every term occurrence; here a rule's node tree decides whether
it holds, collects evidence (the occurrences that made it hold), and picks the one entity the
alert is about: the entity inside the tightest satisfied ``near``, else the first mentioned in
the title, else the first in the body. Everything is deterministic: occurrences are sorted,
ties break on field then position.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from stream.engine.compiler import FIELD_NAMES, Group, NearNode, Node, Occ, TermSpec
from stream.engine.templates import Template
from stream.engine.text import FieldText
from stream.models import Article, Evidence, Match, RulePolicy, Severity

__all__ = ["MAX_EVIDENCE", "CompiledRule", "Window", "match_rule"]

MAX_EVIDENCE = 20

Hits = Mapping[int, list[Occ]]


class Window(NamedTuple):
    """A satisfied ``near``: its token distance, where it starts, and its occurrences."""

    distance: int
    field: int
    first: int
    occs: tuple[Occ, ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate. ``version`` hashes the rule and the lists it uses."""

    id: str
    name: str
    file: str
    line: int
    version: str
    policy: RulePolicy
    severity: Severity
    tags: tuple[str, ...]
    cameo: tuple[str, ...]
    enabled: bool
    entity_list: str | None
    entity_terms: Mapping[int, str]
    fields: frozenset[int]
    root: Node
    required: tuple[frozenset[int], ...]
    title_template: Template | None
    text_template: Template | None
    description: str | None = None


class _Result(NamedTuple):
    ok: bool
    evidence: list[Occ]
    windows: list[Window]


_FAIL = _Result(False, [], [])


class _Context:
    __slots__ = ("fields", "hits")

    def __init__(self, fields: list[FieldText], hits: Hits) -> None:
        self.fields = fields
        self.hits = hits

    def occurrences(self, terms: frozenset[int], fields: frozenset[int]) -> list[Occ]:
        hits = self.hits
        found = [o for t in hits.keys() & terms for o in hits[t] if o.field in fields]
        found.sort()
        return found


def _eval(node: Node, ctx: _Context, fields: frozenset[int]) -> _Result:
    if isinstance(node, NearNode):
        return _near(node, ctx, node.fields or fields)
    scope = node.fields or fields
    if node.op == "all":
        evidence: list[Occ] = []
        windows: list[Window] = []
        for item in node.items:
            result = _item(item, ctx, scope)
            if not result.ok:
                return _FAIL
            evidence.extend(result.evidence)
            windows.extend(result.windows)
        return _Result(True, evidence, windows)
    if node.op == "any":
        evidence = []
        windows = []
        ok = False
        for item in node.items:
            result = _item(item, ctx, scope)
            if result.ok:
                ok = True
                evidence.extend(result.evidence)
                windows.extend(result.windows)
        return _Result(ok, evidence, windows) if ok else _FAIL
    # none
    for item in node.items:
        if _item(item, ctx, scope).ok:
            return _FAIL
    return _Result(True, [], [])


def _item(item: Group | Node, ctx: _Context, fields: frozenset[int]) -> _Result:
    if not isinstance(item, Group):
        return _eval(item, ctx, fields)
    occs = ctx.occurrences(item.terms, fields)
    if not occs:
        return _FAIL
    first_per_term: dict[int, Occ] = {}
    for occ in occs:
        first_per_term.setdefault(occ.term, occ)
    return _Result(True, list(first_per_term.values()), [])


def _near(node: NearNode, ctx: _Context, fields: frozenset[int]) -> _Result:
    per_group = []
    for group in node.groups:
        occs = ctx.occurrences(group.terms, fields)
        if not occs:
            return _FAIL
        per_group.append(occs)

    def by_field(occ: Occ) -> tuple[int, int]:
        return (occ.field, 0)

    def by_sentence(occ: Occ) -> tuple[int, int]:
        return (occ.field, ctx.fields[occ.field].sentence_of(occ.first))

    windows = _windows(per_group, by_field, node.within)
    if windows and not node.across:
        # Sentence numbers take a pass over the whole field, so they are asked for only once
        # the field alone holds a window: a window inside one sentence is never shorter than
        # the field's (its occurrences are among the field's), so without one there is none.
        windows = _windows(per_group, by_sentence, node.within)
    if not windows:
        return _FAIL
    windows.sort()
    return _Result(True, list(windows[0].occs), windows)


def _windows(
    per_group: list[list[Occ]], segment: Callable[[Occ], tuple[int, int]], within: int
) -> list[Window]:
    """Each occurrence's tightest window with the other groups in its segment, if close enough.

    For every occurrence (the anchor), each other group contributes its occurrence that starts
    at or before the anchor in the same segment and reaches furthest; the window runs from the
    earliest end among them to the anchor.
    """
    # Per group and segment: starts in order, and the occurrence reaching furthest so far.
    indexes: list[dict[tuple[int, int], tuple[list[int], list[Occ]]]] = []
    for occs in per_group:
        index: dict[tuple[int, int], tuple[list[int], list[Occ]]] = {}
        for occ in occs:
            starts, best = index.setdefault(segment(occ), ([], []))
            starts.append(occ.first)
            best.append(occ if not best or occ.last > best[-1].last else best[-1])
        indexes.append(index)

    windows: list[Window] = []
    for gi, occs in enumerate(per_group):
        for anchor in occs:
            seg = segment(anchor)
            chosen = [anchor]
            for gj, index in enumerate(indexes):
                if gj == gi:
                    continue
                entry = index.get(seg)
                if entry is None:
                    break
                k = bisect.bisect_right(entry[0], anchor.first) - 1
                if k < 0:
                    break
                chosen.append(entry[1][k])
            else:
                low = min(o.last for o in chosen)
                distance = max(0, anchor.first - low + 1)
                if distance <= within:
                    first = min(o.first for o in chosen)
                    windows.append(Window(distance, anchor.field, first, tuple(sorted(chosen))))
    return windows


def _choose_entity(rule: CompiledRule, ctx: _Context, windows: list[Window]) -> Occ | None:
    terms = rule.entity_terms
    if not terms:
        return None
    for window in sorted(windows):
        inside = [o for o in window.occs if o.term in terms]
        if inside:
            return inside[0]
    mentions = ctx.occurrences(frozenset(terms), rule.fields)
    return mentions[0] if mentions else None


def _evidence(occ: Occ, ctx: _Context, terms: list[TermSpec]) -> Evidence:
    field_text = ctx.fields[occ.field]
    if occ.start >= 0:
        start, end = occ.start, occ.end
    else:
        start, end = field_text.char_span(occ.first, occ.last)
    return Evidence(
        field="title" if occ.field == 0 else "body",
        term=terms[occ.term].text,
        text=field_text.text[start:end],
        start=start,
        end=end,
        snippet=field_text.snippet(start, end),
    )


def _render(template: Template | None, context: Mapping[str, Any]) -> str | None:
    return None if template is None else template.render(context)


def match_rule(
    rule: CompiledRule,
    article: Article,
    fields: list[FieldText],
    hits: Hits,
    terms: list[TermSpec],
) -> Match | None:
    """The Match of ``rule`` on ``article``, or None when the rule does not hold."""
    ctx = _Context(fields, hits)
    result = _eval(rule.root, ctx, rule.fields)
    if not result.ok:
        return None
    entity_occ = _choose_entity(rule, ctx, result.windows)
    entity = rule.entity_terms[entity_occ.term] if entity_occ is not None else None
    occs = sorted(set(result.evidence))
    if entity_occ is not None and entity_occ not in occs:
        occs = sorted([entity_occ, *occs[: MAX_EVIDENCE - 1]])
    evidence = tuple(_evidence(o, ctx, terms) for o in occs[:MAX_EVIDENCE])
    context = {
        "entity": entity,
        "rule": {
            "id": rule.id,
            "name": rule.name,
            "severity": rule.severity,
            "tags": list(rule.tags),
            "cameo": list(rule.cameo),
        },
        "article": {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "source": article.source,
            "published_at": article.published_at,
        },
        "evidence": [e.model_dump() for e in evidence],
    }
    default_title = f"{rule.name}: {entity}" if entity else rule.name
    title = _render(rule.title_template, context) or default_title
    text = _render(rule.text_template, context) or ""
    return Match(
        rule_id=rule.id,
        rule_name=rule.name,
        rule_version=rule.version,
        severity=rule.severity,
        entity=entity,
        tags=rule.tags,
        cameo=rule.cameo,
        title=title,
        text=text,
        evidence=evidence,
        policy=rule.policy,
    )


def field_names(fields: frozenset[int]) -> list[str]:
    """Field indices back to names, for messages."""
    return [FIELD_NAMES[i] for i in sorted(fields)]
