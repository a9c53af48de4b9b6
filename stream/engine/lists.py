"""Named lists shared by every loaded file: plain term lists, entity lists, derived lists.

Lists are global so that member lists, leader aliases and organisation names can live once in
``rules/lists/`` and be used by every pack. Resolution happens after all files are read:
``$name`` inside a term list pulls in another list, and ``{from: states, only: [...]}`` picks
entries (canonical name + aliases) of an entity list, so a membership list never repeats the
aliases of its states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stream.engine.schema import DerivedList
from stream.engine.source import Located, Path_, did_you_mean
from stream.engine.text import split_term
from stream.errors import Problem

__all__ = ["ListDefinition", "ListRegistry"]

ListValue = list[str] | dict[str, list[str] | None] | DerivedList


@dataclass(frozen=True, slots=True)
class ListDefinition:
    """A validated list and where it was written."""

    name: str
    value: ListValue
    where: Located
    path: Path_


@dataclass(slots=True)
class ListRegistry:
    """Resolves list names to terms and, for entity lists, term -> canonical name."""

    definitions: dict[str, ListDefinition] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _entities: dict[str, dict[str, str]] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def add(self, definition: ListDefinition) -> None:
        """Register a list; a second definition of the same name is a problem naming both."""
        previous = self.definitions.get(definition.name)
        if previous is not None:
            line, column = previous.where.at(previous.path, key=True)
            self.problems.append(
                definition.where.problem(
                    definition.path,
                    f"duplicate list '{definition.name}': also defined at "
                    f"{previous.where.file}:{line}:{column}; rename one or merge them",
                    key=True,
                )
            )
            return
        self.definitions[definition.name] = definition

    def names(self) -> list[str]:
        """Every defined list name."""
        return list(self.definitions)

    def has(self, name: str) -> bool:
        """Whether ``name`` is a defined list."""
        return name in self.definitions

    def terms(self, name: str) -> tuple[str, ...]:
        """Every term of list ``name`` (canonical names and aliases for entity lists)."""
        self._resolve(name)
        return self._terms.get(name, ())

    def entities(self, name: str) -> dict[str, str] | None:
        """Term -> canonical name for an entity list; None for a plain term list."""
        self._resolve(name)
        return self._entities.get(name)

    def content(self, name: str) -> object:
        """A JSON-able view of the resolved list, used in rule version hashes."""
        self._resolve(name)
        return {"terms": list(self._terms.get(name, ())), "entities": self._entities.get(name)}

    def resolve_all(self) -> None:
        """Resolve every list now, so each problem is reported once, at its definition."""
        for name in list(self.definitions):
            self._resolve(name)

    def _resolve(self, name: str) -> None:
        if name in self._terms or name not in self.definitions:
            return
        if name in self._resolving:
            return
        self._resolving.add(name)
        try:
            definition = self.definitions[name]
            value = definition.value
            if isinstance(value, list):
                self._terms[name] = self._resolve_terms(definition, value)
            elif isinstance(value, DerivedList):
                self._resolve_derived(definition, value)
            else:
                self._resolve_entities(definition, value)
        finally:
            self._resolving.discard(name)

    def _resolve_terms(self, definition: ListDefinition, value: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for index, term in enumerate(value):
            if not term.startswith("$"):
                out.append(term)
                continue
            ref = term[1:]
            if ref in self._resolving:
                self.problems.append(
                    definition.where.problem(
                        (*definition.path, index),
                        f"list '{definition.name}' includes itself through ${ref}; "
                        "remove the cycle",
                    )
                )
            elif ref not in self.definitions:
                self.problems.append(
                    definition.where.problem(
                        (*definition.path, index),
                        f"undefined list ${ref}{did_you_mean(ref, self.names())}",
                    )
                )
            else:
                out.extend(self.terms(ref))
        return tuple(dict.fromkeys(out))

    def _resolve_entities(
        self, definition: ListDefinition, value: dict[str, list[str] | None]
    ) -> None:
        mapping: dict[str, str] = {}
        seen: dict[tuple[tuple[str, bool], ...], str] = {}
        for canonical, aliases in value.items():
            for index, term in enumerate([canonical, *(aliases or [])]):
                key = tuple(split_term(term))
                owner = seen.get(key)
                if owner is not None and owner != canonical:
                    path = (*definition.path, canonical) if index == 0 else (
                        *definition.path, canonical, index - 1
                    )
                    self.problems.append(
                        definition.where.problem(
                            path,
                            f"'{term}' in list '{definition.name}' names both {owner} and "
                            f"{canonical}; keep it under one of them",
                        )
                    )
                    continue
                seen[key] = canonical
                mapping.setdefault(term, canonical)
        self._entities[definition.name] = mapping
        self._terms[definition.name] = tuple(mapping)

    def _resolve_derived(self, definition: ListDefinition, value: DerivedList) -> None:
        source = value.from_
        source_path = (*definition.path, "from")
        if source not in self.definitions:
            self.problems.append(
                definition.where.problem(
                    source_path,
                    f"undefined list '{source}'{did_you_mean(source, self.names())}",
                )
            )
            return
        entities = self.entities(source)
        if entities is None:
            self.problems.append(
                definition.where.problem(
                    source_path,
                    f"'{source}' is a plain term list; `from` needs an entity list "
                    "(a mapping of canonical name to aliases)",
                )
            )
            return
        by_canonical: dict[str, list[str]] = {}
        for term, canonical in entities.items():
            by_canonical.setdefault(canonical, []).append(term)
        canonicals = list(by_canonical)
        mapping: dict[str, str] = {}
        for index, wanted in enumerate(value.only):
            if wanted in by_canonical:
                mapping.update(dict.fromkeys(by_canonical[wanted], wanted))
                continue
            owner = entities.get(wanted)
            if owner is not None:
                hint = f"; '{wanted}' is an alias of {owner}, write {owner}"
            else:
                hint = did_you_mean(wanted, canonicals)
            self.problems.append(
                definition.where.problem(
                    (*definition.path, "only", index),
                    f"'{wanted}' is not an entry of list '{source}'{hint}",
                )
            )
        self._entities[definition.name] = mapping
        self._terms[definition.name] = tuple(mapping)
