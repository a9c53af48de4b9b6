"""``load_rules``: files -> validated, expanded, compiled :class:`RuleSet`, or every problem.

Stages, each collecting problems instead of stopping at the first: read YAML with positions;
register lists and tables globally (duplicates name both places); expand ``for_each``;
validate each concrete rule against the schema; compile its conditions (undefined lists, bad
terms, bad regexes, bad templates). Only a fully clean load produces a RuleSet, so a worker
never runs half a rule pack.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from stream.engine import schema
from stream.engine.compiler import Group, LogicNode, NearNode, Node, TermTable, required_groups
from stream.engine.compiler import term_error as _term_error
from stream.engine.evaluate import CompiledRule
from stream.engine.examples import CompiledExample
from stream.engine.expand import Expansion, TableDefinition, expand_rule
from stream.engine.lists import ListDefinition, ListRegistry
from stream.engine.ruleset import RuleSet
from stream.engine.source import (
    Located,
    Path_,
    SourceFile,
    did_you_mean,
    discover,
    read_source,
    translate_errors,
)
from stream.engine.templates import Template, TemplateProblem, compile_template
from stream.errors import Problem, RuleError
from stream.models import EscalationTier, RulePolicy, Threshold

__all__ = ["DEFAULT_WITHIN", "load_rules"]

DEFAULT_WITHIN = 10
_ALL_FIELDS = frozenset({0, 1})
_FIELD_INDEX = {"title": 0, "body": 1}
_LIST_ADAPTER: TypeAdapter[Any] = TypeAdapter(schema.ListDef)
_TABLE_ADAPTER: TypeAdapter[list[dict[str, str]]] = TypeAdapter(list[dict[str, str]])
_DATE_ADAPTER: TypeAdapter[date | None] = TypeAdapter(date | None)
_TOP_KEYS = ("as_of", "lists", "tables", "rules")


def load_rules(paths: Iterable[Path]) -> RuleSet:
    """Load every rule file under ``paths``; raise :class:`RuleError` listing all problems."""
    problems: list[Problem] = []
    sources = [s for p in discover(paths, problems) if (s := read_source(p, problems))]
    registry = ListRegistry()
    tables: dict[str, TableDefinition] = {}
    as_of: dict[str, date] = {}
    for source in sources:
        _read_top(source, registry, tables, as_of, problems)
    registry.resolve_all()
    problems.extend(registry.problems)

    table = TermTable()
    rules: list[CompiledRule] = []
    examples: list[CompiledExample] = []
    seen: dict[str, tuple[str, int, int]] = {}
    list_groups: dict[str, Group] = {}
    for source in sources:
        raw_rules = source.data.get("rules")
        if raw_rules is None:
            continue
        if not isinstance(raw_rules, list):
            problems.append(source.where.problem(("rules",), "`rules` is a list of rules"))
            continue
        for index, raw in enumerate(raw_rules):
            path: Path_ = ("rules", index)
            if not isinstance(raw, dict):
                problems.append(source.where.problem(path, "a rule is a mapping (id, name, ...)"))
                continue
            for expansion in expand_rule(raw, tables, source.where, path, problems):
                built = _build_rule(
                    expansion, source, path, registry, table, problems, list_groups
                )
                if built is None:
                    continue
                rule, rule_examples = built
                line, column = source.where.at((*path, "id"))
                previous = seen.get(rule.id)
                if previous is not None:
                    problems.append(Problem(
                        source.path, line, column,
                        f"duplicate rule id '{rule.id}': also defined at "
                        f"{previous[0]}:{previous[1]}:{previous[2]}; rule ids must be unique",
                    ))
                    continue
                seen[rule.id] = (source.path, line, column)
                rules.append(rule)
                examples.extend(rule_examples)
    if problems:
        raise RuleError(_unique(problems))
    digest = hashlib.sha256()
    for source in sorted(sources, key=lambda s: s.path):
        digest.update(source.digest.encode())
    return RuleSet(
        rules=sorted(rules, key=lambda r: r.id),
        table=table,
        examples=examples,
        version=digest.hexdigest()[:12],
        files=tuple(s.path for s in sources),
        as_of=as_of,
    )


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _read_top(
    source: SourceFile,
    registry: ListRegistry,
    tables: dict[str, TableDefinition],
    as_of: dict[str, date],
    problems: list[Problem],
) -> None:
    where = source.where
    for key in source.data:
        if key not in _TOP_KEYS:
            hint = did_you_mean(key, _TOP_KEYS) or f" (allowed keys: {', '.join(_TOP_KEYS)})"
            problems.append(where.problem((key,), f"unknown key '{key}'{hint}", key=True))
    try:
        when = _DATE_ADAPTER.validate_python(source.data.get("as_of"))
        if when is not None:
            as_of[source.path] = when
    except ValidationError:
        problems.append(where.problem(("as_of",), "as_of is a date like 2025-06-01"))
    for section in ("lists", "tables"):
        value = source.data.get(section) or {}
        if not isinstance(value, dict):
            problems.append(where.problem((section,), f"`{section}` is a mapping of names"))
            continue
        for name, entry in value.items():
            path: Path_ = (section, name)
            try:
                if section == "lists":
                    parsed = _LIST_ADAPTER.validate_python(entry)
                    registry.add(ListDefinition(name, parsed, where, path))
                else:
                    items = _TABLE_ADAPTER.validate_python(entry)
                    _add_table(tables, TableDefinition(name, tuple(items), where, path), problems)
            except ValidationError as exc:
                problems.extend(translate_errors(exc, entry, where, path))


def _add_table(
    tables: dict[str, TableDefinition], table: TableDefinition, problems: list[Problem]
) -> None:
    previous = tables.get(table.name)
    if previous is not None:
        line, column = previous.where.at(previous.path, key=True)
        problems.append(table.where.problem(
            table.path,
            f"duplicate table '{table.name}': also defined at {previous.where.file}:{line}:"
            f"{column}; rename one or merge them",
            key=True,
        ))
        return
    tables[table.name] = table


class _RuleCompiler:
    """Compiles one concrete rule; every problem is located inside the rule's YAML."""

    def __init__(
        self, where: Located, path: Path_, registry: ListRegistry, table: TermTable,
        label: str, problems: list[Problem], list_groups: dict[str, Group],
    ) -> None:
        self.list_groups = list_groups
        self.where = where
        self.path = path
        self.registry = registry
        self.table = table
        self.suffix = f" (for_each {label})" if label else ""
        self.problems = problems
        self.lists_used: set[str] = set()

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(self.where.problem((*self.path, *path), message + self.suffix))

    def group(self, text: str, path: Path_) -> Group | None:
        if text.startswith("$"):
            name = text[1:]
            if not self.registry.has(name):
                hint = did_you_mean(name, self.registry.names())
                self.problem(path, f"undefined list ${name}{hint}; define it under `lists:`")
                return None
            self.lists_used.add(name)
            if name not in self.list_groups:
                # A list's terms are checked once, however many rules use it, and a bad term
                # is reported where the list is written.
                definition = self.registry.definitions[name]
                ids = []
                for term in self.registry.terms(name):
                    ident = self.table.lookup(term)
                    if ident is None:
                        error = _term_error(term)
                        if error is not None:
                            self.problems.append(definition.where.problem(
                                definition.path, f"in list '{name}': {error}"
                            ))
                            continue
                        ident = self.table.intern(term)
                    ids.append(ident)
                self.list_groups[name] = Group(text, frozenset(ids))
            return self.list_groups[name]
        ident = self.term(text, path)
        return None if ident is None else Group(text, frozenset({ident}))

    def term(self, text: str, path: Path_) -> int | None:
        known = self.table.lookup(text)
        if known is not None:
            return known
        error = _term_error(text)
        if error is not None:
            self.problem(path, error)
            return None
        return self.table.intern(text)

    def node(self, cond: schema.Condition, path: Path_) -> Node | None:
        fields = frozenset(_FIELD_INDEX[f] for f in cond.fields or ())
        op = cond.operator
        items = cond.operator_items(op) or []
        if op == "near":
            groups: list[Group] = []
            for index, item in enumerate(items):
                texts = item if isinstance(item, list) else [item]
                parts = [self.group(t, (*path, "near", index)) for t in texts]
                if any(p is None for p in parts):
                    continue
                terms = frozenset().union(*(p.terms for p in parts if p is not None))
                groups.append(Group(" | ".join(texts), terms))
            if len(groups) != len(items):
                return None
            within = cond.within or DEFAULT_WITHIN
            return NearNode(tuple(groups), within, bool(cond.across_sentences), fields)
        compiled: list[Group | Node] = []
        broken = False
        for index, item in enumerate(items):
            child: Group | Node | None
            if isinstance(item, schema.Condition):
                child = self.node(item, (*path, op, index))
            else:
                child = self.group(item, (*path, op, index))
            if child is None:
                broken = True
            else:
                compiled.append(child)
        return None if broken else LogicNode(op, tuple(compiled), fields)

    def template(self, source: str | None, path: Path_) -> Template | None:
        if source is None:
            return None
        result = compile_template(source)
        if isinstance(result, TemplateProblem):
            line, column = self.where.at((*self.path, *path))
            offset = result.line - 1 + (1 if "\n" in source and result.line > 0 else 0)
            self.problems.append(Problem(
                self.where.file, line + offset, column if offset == 0 else 1,
                result.message + self.suffix,
            ))
            return None
        return result


def _policy(rule: schema.Rule, compiler: _RuleCompiler) -> RulePolicy:
    dedup = schema.parse_duration(rule.dedup) if rule.dedup is not None else 6 * 3600.0
    threshold = None
    if rule.threshold is not None:
        threshold = Threshold(
            sources=rule.threshold.sources,
            within_s=schema.parse_duration(rule.threshold.within),
        )
    tiers = tuple(EscalationTier(sources=t.sources, severity=t.severity) for t in rule.escalate)
    floor = threshold.sources if threshold else 1
    for index, tier in enumerate(tiers):
        if tier.sources <= floor:
            compiler.problem(
                ("escalate", index, "sources"),
                f"escalation tiers need increasing sources above {floor}; got {tier.sources}",
            )
        floor = max(floor, tier.sources)
    return RulePolicy(dedup_s=dedup, threshold=threshold, escalate=tiers)


def _build_rule(
    expansion: Expansion,
    source: SourceFile,
    path: Path_,
    registry: ListRegistry,
    table: TermTable,
    problems: list[Problem],
    list_groups: dict[str, Group],
) -> tuple[CompiledRule, list[CompiledExample]] | None:
    suffix = f" (for_each {expansion.label})" if expansion.label else ""
    try:
        rule = schema.Rule.model_validate(expansion.data)
    except ValidationError as exc:
        problems.extend(translate_errors(exc, expansion.data, source.where, path, suffix))
        return None
    before = len(problems)
    compiler = _RuleCompiler(
        source.where, path, registry, table, expansion.label, problems, list_groups
    )
    if not _valid_id(rule.id):
        compiler.problem(("id",), f"invalid rule id {rule.id!r}: use lowercase letters, "
                         "digits, '.', '_' and '-'")
    root = compiler.node(rule.when, ("when",))
    entity_terms: dict[int, str] = {}
    entity_list = rule.entity[1:] if rule.entity else None
    if entity_list is not None:
        entities = registry.entities(entity_list) if registry.has(entity_list) else None
        if not registry.has(entity_list):
            hint = did_you_mean(entity_list, registry.names())
            compiler.problem(("entity",), f"undefined list ${entity_list}{hint}")
        elif entities is None:
            compiler.problem(("entity",), f"${entity_list} is a plain term list; `entity` "
                             "needs an entity list (canonical name -> aliases)")
        else:
            compiler.lists_used.add(entity_list)
            for term, canonical in entities.items():
                ident = compiler.term(term, ("entity",))
                if ident is not None:
                    entity_terms.setdefault(ident, canonical)
    title = compiler.template(rule.alert.title, ("alert", "title"))
    text = compiler.template(rule.alert.text, ("alert", "text"))
    policy = _policy(rule, compiler)
    if root is None or len(problems) > before:
        return None
    version_data = {
        "rule": expansion.data,
        "lists": {name: registry.content(name) for name in sorted(compiler.lists_used)},
    }
    version = hashlib.sha256(
        json.dumps(version_data, sort_keys=True, default=str).encode()
    ).hexdigest()[:12]
    line, _ = source.where.at(path)
    fields = frozenset(_FIELD_INDEX[f] for f in rule.fields) if rule.fields else _ALL_FIELDS
    compiled = CompiledRule(
        id=rule.id, name=rule.name, file=source.path, line=line, version=version,
        policy=policy, severity=rule.severity, tags=tuple(rule.tags), cameo=tuple(rule.cameo),
        enabled=rule.enabled, entity_list=entity_list, entity_terms=entity_terms,
        fields=fields, root=root, required=tuple(required_groups(root)),
        title_template=title, text_template=text, description=rule.description,
    )
    examples = []
    for index, example in enumerate(rule.examples):
        if example.for_ is not None and expansion.first_id is not None and (
            example.for_ != expansion.first_id
        ):
            continue
        ex_line, _ = source.where.at((*path, "examples", index))
        examples.append(CompiledExample.of(compiled, example, index, source.path, ex_line))
    return compiled, examples


def _valid_id(ident: str) -> bool:
    return re.fullmatch(schema.RULE_ID_PATTERN, ident) is not None
