"""Reading rule files with the position of every node, and turning errors into Problems.

ruamel.yaml's composer gives the line and column of every key and item. We copy the
document into plain Python data (so nothing downstream depends on ruamel types) and keep a
side table from each node's path (``("rules", 0, "when", "all", 1)``) to its position. Any
later stage (schema validation, for_each expansion, compilation) reports a problem by path and
gets file:line:column for free.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from stream.engine import schema
from stream.errors import Problem

__all__ = ["Located", "Path_", "SourceFile", "discover", "read_source", "translate_errors"]

Path_ = tuple[str | int, ...]


@dataclass(slots=True)
class Located:
    """Positions (1-based line, column) of the nodes of one file, by path."""

    file: str
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``, or of its nearest located ancestor."""
        probe = tuple(path)
        while True:
            if not key and probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]
            key = False

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        """A Problem located at ``path``."""
        line, column = self.at(path, key=key)
        return Problem(self.file, line, column, message)


@dataclass(slots=True)
class SourceFile:
    """One parsed rule file: plain data, positions and a content digest."""

    path: str
    data: dict[str, Any]
    where: Located
    digest: str


def discover(paths: Iterable[Path], problems: list[Problem]) -> list[Path]:
    """Rule files under ``paths`` (directories are searched recursively), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yml", ".yaml") and p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(
                Problem(str(path), 1, 1, "no such file or directory; check the path")
            )
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path, None)
    return list(unique)


_CACHE_SIZE = 512
_parsed: dict[tuple[str, str], SourceFile] = {}


def read_source(path: Path, problems: list[Problem]) -> SourceFile | None:
    """Parse one file; YAML errors become Problems and yield None.

    Parsed files are cached by path and content hash, so a hot reload after editing one file
    re-parses only that file. Callers treat ``SourceFile.data`` as read-only.
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(name, 1, 1, f"cannot read file: {exc.strerror}"))
        return None
    digest = hashlib.sha256(raw).hexdigest()
    cached = _parsed.get((name, digest))
    if cached is not None:
        return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 1, 1, f"not UTF-8 text ({exc.reason}); save as UTF-8"))
        return None
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
        where = Located(name)
        data = None if node is None else _plain(node, (), where, yaml)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = str(exc.problem or "syntax error")
        if exc.context and exc.context_mark is not None:
            detail += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        problems.append(Problem(name, line, column, f"invalid YAML: {detail}"))
        return None
    except _DuplicateKey as exc:
        problems.append(Problem(name, exc.line, exc.column, str(exc)))
        return None
    except Exception as exc:  # ruamel raises a few unmarked errors
        problems.append(Problem(name, 1, 1, f"invalid YAML: {exc}"))
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(
            Problem(name, 1, 1, "a rule file is a mapping with `lists`, `tables` and `rules`")
        )
        return None
    source = SourceFile(name, data, where, digest)
    if len(_parsed) >= _CACHE_SIZE:
        _parsed.clear()
    _parsed[(name, digest)] = source
    return source


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, column: int, first: int) -> None:
        super().__init__(
            f"duplicate key '{key}' (first at line {first}); merge the two or rename one"
        )
        self.line = line
        self.column = column


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _plain(node: Node, path: Path_, where: Located, yaml: YAML) -> Any:
    """Plain data from a composed node, recording each key's and item's position."""
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(_plain(key_node, path, where, yaml))
            if key in out:
                line, column = _position(key_node)
                raise _DuplicateKey(key, line, column, first_line[key])
            child = (*path, key)
            where.keys[child] = _position(key_node)
            where.values[child] = _position(value_node)
            first_line[key] = where.keys[child][0]
            out[key] = _plain(value_node, child, where, yaml)
        return out
    if isinstance(node, SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            where.keys[child] = _position(item)
            items.append(_plain(item, child, where, yaml))
        return items
    value = yaml.constructor.construct_object(node, deep=True)
    if isinstance(value, bool) or value is None or isinstance(value, int | float | date):
        return value
    return str(value)


# Which model a mapping is, judged by the key that holds it, for did-you-mean suggestions.
_MODEL_BY_PARENT: dict[str, type[BaseModel]] = {
    "": schema.RuleFile,
    "rules": schema.Rule,
    "alert": schema.AlertSpec,
    "when": schema.Condition,
    "any": schema.Condition,
    "all": schema.Condition,
    "none": schema.Condition,
    "examples": schema.Example,
    "expect": schema.ExpectSpec,
    "threshold": schema.ThresholdSpec,
    "escalate": schema.EscalateSpec,
    "lists": schema.DerivedList,
}

_PATTERN_HINTS = {
    "id": "rule ids use lowercase letters, digits, '.', '_' and '-' (e.g. csto-member-skips)",
    "entity": "entity names a list: write `entity: $my_list`",
    "cameo": "CAMEO codes are 2-4 digits, quoted: cameo: [\"125\"]",
    "dedup": "write a duration such as 30s, 15m, 12h or 7d",
    "within": "write a duration such as 30s, 15m, 12h or 7d",
    "for_each": "refer to a table as \"@name\" or list the items inline",
}


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a mapping of this model accepts, as written in YAML."""
    return [f.alias or name for name, f in model.model_fields.items()]


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` did you mean 'x'?`` or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _clean_loc(data: Any, loc: Sequence[str | int]) -> Path_:
    """Drop union tags (and a trailing missing key) from a pydantic loc by following the data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_map = isinstance(node, dict) and isinstance(part, str) and part in node
        in_seq = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_seq:
            path.append(part)
            node = node[part]
    return tuple(path)


def _parent_model(path: Path_, base: Path_) -> type[BaseModel] | None:
    names = [p for p in (*base, *path) if isinstance(p, str)]
    if not names:
        return _MODEL_BY_PARENT[""]
    if len(names) >= 2 and names[-2] == "lists":
        return schema.DerivedList
    return _MODEL_BY_PARENT.get(names[-1])


def translate_errors(
    error: ValidationError, data: Any, where: Located, base: Path_, suffix: str = ""
) -> list[Problem]:
    """One Problem per pydantic error, located in the YAML and phrased with a fix."""
    problems: list[Problem] = []
    errors = error.errors(include_url=False)
    extra_keys = {
        (_clean_loc(data, e["loc"][:-1]), str(e["loc"][-1]))
        for e in errors
        if e["type"] == "extra_forbidden"
    }
    for err in errors:
        loc = list(err["loc"])
        kind = err["type"]
        if kind == "missing":
            parent = _clean_loc(data, loc[:-1])
            typos = [k for p, k in extra_keys if p == parent]
            if difflib.get_close_matches(str(loc[-1]), typos, n=1, cutoff=0.6):
                continue  # the misspelt key's own error already says what to write
        if kind == "extra_forbidden":
            key = str(loc[-1])
            parent = _clean_loc(data, loc[:-1])
            model = _parent_model(parent, base)
            choices = allowed_keys(model) if model else []
            hint = did_you_mean(key, choices)
            if not hint and choices:
                hint = f" (allowed keys: {', '.join(choices)})"
            problems.append(
                where.problem((*base, *parent, key), f"unknown key '{key}'{hint}", key=True)
            )
            continue
        path = _clean_loc(data, loc)
        field_name = next((p for p in reversed(path) if isinstance(p, str)), "")
        if kind == "missing":
            message = f"missing required key '{loc[-1]}'"
        elif kind == "too_short":
            message = f"empty `{field_name}`: {_too_short_fix(field_name)}"
        elif kind == "string_pattern_mismatch":
            value = err.get("input")
            message = f"invalid value {value!r}: {_PATTERN_HINTS.get(field_name, err['msg'])}"
        elif kind == "literal_error":
            value = str(err.get("input"))
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip(" '") for c in str(expected).replace(" or ", ",").split(",")]
            message = f"invalid value {value!r}: expected {expected}{did_you_mean(value, choices)}"
        elif kind == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        else:
            value = err.get("input")
            shown = value if isinstance(value, str | int | float | bool) or value is None else ""
            got = f" (got {shown!r})" if shown != "" else ""
            message = f"{err['msg'][0].lower()}{err['msg'][1:]}{got}"
        problems.append(where.problem((*base, *path), message + suffix))
    return problems


def _too_short_fix(field_name: str) -> str:
    if field_name == "near":
        return "`near` needs at least two groups, e.g. near: [$members, $absence]"
    if field_name in ("any", "all", "none"):
        return "give at least one term, $list or condition, or remove the group"
    return "give at least one item, or remove the key"
