"""``for_each``: one generic rule written once, expanded into a rule per item.

A desk follows dozens of organisations whose summit and departure-risk rules differ only in
names and lists. ``for_each`` binds variables to items (inline, or a named ``tables:`` entry
as ``"@alliances"``), and ``${var.field}`` is substituted in every string of the rule, except
inside Jinja ``{{ }}`` / ``{% %}`` blocks, which belong to alert templates. The expanded rule
keeps the paths of the original, so any later error still points at the line that was written.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stream.engine.source import Located, Path_, did_you_mean
from stream.errors import Problem

__all__ = ["Expansion", "TableDefinition", "expand_rule"]

_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)\.([A-Za-z_]\w*)\}")
_JINJA = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """A named list of for_each items, and where it was written."""

    name: str
    items: tuple[dict[str, str], ...]
    where: Located
    path: Path_


@dataclass(frozen=True, slots=True)
class Expansion:
    """One concrete rule out of a generic one."""

    data: dict[str, Any]
    label: str  # "org=nato" for messages; "" for a plain rule
    first_id: str | None  # the first variable's item id, matched by examples' `for:`


def expand_rule(
    raw: dict[str, Any],
    tables: Mapping[str, TableDefinition],
    where: Located,
    path: Path_,
    problems: list[Problem],
) -> list[Expansion]:
    """The concrete rules of ``raw`` (itself when it has no ``for_each``)."""
    spec = raw.get("for_each")
    if spec is None:
        return [Expansion(raw, "", None)]
    body = {k: v for k, v in raw.items() if k != "for_each"}
    spec_path = (*path, "for_each")
    if not isinstance(spec, dict) or not spec:
        problems.append(
            where.problem(spec_path, "for_each maps a variable to items, e.g. for_each: {org: "
                          '"@alliances"} or for_each: {org: [{id: nato, name: NATO}]}')
        )
        return []
    names: list[str] = []
    choices: list[list[dict[str, str]]] = []
    for var, items in spec.items():
        resolved = _items(var, items, tables, where, (*spec_path, var), problems)
        if resolved is None:
            return []
        names.append(var)
        choices.append(resolved)
    expansions: list[Expansion] = []
    local: list[Problem] = []
    for combo in itertools.product(*choices):
        binding = dict(zip(names, combo, strict=True))
        data = _substitute(body, binding, where, path, local)
        first_id = combo[0].get("id") if combo else None
        label = ", ".join(f"{n}={item.get('id', '?')}" for n, item in binding.items())
        expansions.append(Expansion(data, label, first_id))
    for problem in dict.fromkeys(local):
        problems.append(problem)
    if local:
        return []
    _check_example_targets(body, expansions, where, path, problems)
    return expansions


def _items(
    var: str,
    items: Any,
    tables: Mapping[str, TableDefinition],
    where: Located,
    path: Path_,
    problems: list[Problem],
) -> list[dict[str, str]] | None:
    if isinstance(items, str) and items.startswith("@"):
        table = tables.get(items[1:])
        if table is None:
            hint = did_you_mean(items[1:], list(tables))
            problems.append(where.problem(path, f"undefined table '{items}'{hint}; define it "
                                          "under a top-level `tables:` key"))
            return None
        return [dict(item) for item in table.items]
    if not isinstance(items, list) or not items:
        problems.append(where.problem(path, f"for_each variable '{var}' needs a non-empty list "
                                      "of items or a table reference like \"@alliances\""))
        return None
    out: list[dict[str, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not all(
            isinstance(v, str | int | float) for v in item.values()
        ):
            problems.append(where.problem((*path, index), "a for_each item is a flat mapping of "
                                          "strings, e.g. {id: nato, name: NATO}"))
            return None
        out.append({str(k): str(v) for k, v in item.items()})
    return out


def _substitute(
    node: Any, binding: dict[str, dict[str, str]], where: Located, path: Path_,
    problems: list[Problem],
) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, binding, where, (*path, k), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, binding, where, (*path, i), problems) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node
    pieces = _JINJA.split(node)
    out = []
    for index, piece in enumerate(pieces):
        out.append(piece if index % 2 else _fill(piece, binding, where, path, problems))
    return "".join(out)


def _fill(
    text: str, binding: dict[str, dict[str, str]], where: Located, path: Path_,
    problems: list[Problem],
) -> str:
    def replace(match: re.Match[str]) -> str:
        var, key = match.group(1), match.group(2)
        item = binding.get(var)
        if item is None:
            hint = did_you_mean(var, list(binding))
            problems.append(where.problem(path, f"unknown for_each variable '{var}' in "
                                          f"'{match.group()}'{hint}"))
            return match.group()
        if key not in item:
            hint = did_you_mean(key, list(item))
            problems.append(where.problem(
                path, f"unknown for_each field '{key}' in '{match.group()}'{hint}; "
                f"every '{var}' item needs it"))
            return match.group()
        return item[key]

    return _VARIABLE.sub(replace, text)


def _check_example_targets(
    body: dict[str, Any], expansions: list[Expansion], where: Located, path: Path_,
    problems: list[Problem],
) -> None:
    examples = body.get("examples")
    if not isinstance(examples, list):
        return
    ids = [e.first_id for e in expansions if e.first_id]
    for index, example in enumerate(examples):
        if isinstance(example, dict) and "for" in example and str(example["for"]) not in ids:
            target = str(example["for"])
            problems.append(where.problem(
                (*path, "examples", index, "for"),
                f"`for: {target}` matches no for_each item{did_you_mean(target, ids)}",
            ))
