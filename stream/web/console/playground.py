"""The Playground: try an article against live or pasted rules, and see why rules fire.

Nothing leaves this module: it evaluates with the same engine the worker uses and returns what
fired, never producing to a topic or touching a sink. Pasted YAML is loaded as one file beside
copies of the live packs' lists and tables (their rules left out), so a pasted rule can use
``$csto_members`` and friends and its problems carry the line numbers of the text as pasted.
A list the pasted text defines itself replaces the live one of that name.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from stream.engine import RuleSet, load_rules
from stream.errors import Problem, RuleError
from stream.models import Alert, Article, Evidence, Match
from stream.web.console.render import highlight_spans, highlight_terms

__all__ = [
    "PASTED_FILE",
    "PlaygroundInput",
    "PlaygroundResult",
    "RuleOutcome",
    "load_pasted",
    "prefill",
    "run_playground",
]

PASTED_FILE = "pasted.yml"
_SHARED_SECTIONS = ("lists", "tables")
_NOTHING = Markup("")


class PlaygroundInput(BaseModel):
    """What the form sends; the limits keep one request from compiling a novel."""

    model_config = ConfigDict(frozen=True)

    title: str = Field("", max_length=2_000)
    body: str = Field("", max_length=200_000)
    rules: tuple[str, ...] = ()
    rule_yaml: str = Field("", max_length=100_000)


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule tried: whether it fired, and if so the entity, title and marked evidence."""

    rule_id: str
    name: str
    fired: bool
    match: Match | None
    evidence: tuple[tuple[str, Markup], ...]


@dataclass(frozen=True, slots=True)
class PlaygroundResult:
    """The outcome of one run; ``problems`` is set (and nothing else) when YAML was rejected."""

    mode: str
    outcomes: tuple[RuleOutcome, ...] = ()
    checked: int = 0
    title: Markup = _NOTHING
    body: Markup = _NOTHING
    problems: tuple[Problem, ...] = ()
    error: str | None = None

    @property
    def fired(self) -> tuple[RuleOutcome, ...]:
        return tuple(o for o in self.outcomes if o.fired)


def _defined_names(text: str) -> dict[str, set[str]]:
    """List and table names the pasted text defines (empty when it does not parse)."""
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {s: set(data[s]) for s in _SHARED_SECTIONS if isinstance(data.get(s), dict)}


_REFERENCE = re.compile(r"\$\$?([A-Za-z_][\w-]*)")
_SHARED_CACHE: dict[str, dict[str, dict[str, Any]]] = {}


def _live_shared(live: RuleSet) -> dict[str, dict[str, Any]]:
    """Every list and table of the live files, read once per rules version."""
    cached = _SHARED_CACHE.get(live.version)
    if cached is not None:
        return cached
    yaml = YAML(typ="safe")
    shared: dict[str, dict[str, Any]] = {section: {} for section in _SHARED_SECTIONS}
    for file in live.files:
        try:
            data = yaml.load(Path(file).read_text(encoding="utf-8"))
        except (OSError, YAMLError):
            continue
        if isinstance(data, dict):
            for section in _SHARED_SECTIONS:
                if isinstance(entries := data.get(section), dict):
                    shared[section].update(entries)
    _SHARED_CACHE.clear()  # only the live version is ever asked for again
    _SHARED_CACHE[live.version] = shared
    return shared


def _needed_lists(text: str, lists: Mapping[str, Any]) -> set[str] | None:
    """The live lists the pasted text uses, directly or through derived lists.

    None (keep every list) when names are built per ``for_each`` item with ``${...}``.
    """
    if "${" in text:
        return None
    todo = set(_REFERENCE.findall(text))
    needed: set[str] = set()
    while todo:
        name = todo.pop()
        if name in needed or name not in lists:
            continue
        needed.add(name)
        entry = lists[name]
        if isinstance(entry, dict) and isinstance(entry.get("from"), str):
            todo.add(entry["from"])
    return needed


def _context(live: RuleSet, text: str) -> dict[str, Any]:
    """The live lists the paste needs and the live tables, minus anything it redefines.

    Only the needed lists are compiled again, which keeps a try well under a second even
    with the full states list live.
    """
    shared = _live_shared(live)
    overridden = _defined_names(text)
    needed = _needed_lists(text, shared["lists"])
    context: dict[str, Any] = {}
    for section in _SHARED_SECTIONS:
        keep = {
            name: entry
            for name, entry in shared[section].items()
            if name not in overridden.get(section, ())
            and (section != "lists" or needed is None or name in needed)
        }
        if keep:
            context[section] = keep
    return context


def load_pasted(text: str, live: RuleSet) -> tuple[RuleSet, frozenset[str]]:
    """Compile pasted rule YAML with the live lists; return the rules and the pasted rule ids.

    Raises :class:`RuleError` whose problems name ``pasted.yml`` with the pasted line numbers.
    """
    context = _context(live, text)
    with tempfile.TemporaryDirectory(prefix="newsalert-playground-") as tmp:
        root = Path(tmp)
        if context:
            with (root / "context.yml").open("w", encoding="utf-8") as out:
                YAML(typ="safe").dump(context, out)
        pasted = root / PASTED_FILE
        pasted.write_text(text, encoding="utf-8")
        try:
            ruleset = load_rules([root])
        except RuleError as exc:
            raise RuleError([_relabel(p, root) for p in exc.problems]) from None
        ids = frozenset(r.id for r in ruleset.rules if Path(r.file).name == PASTED_FILE)
    return ruleset, ids


def _relabel(problem: Problem, root: Path) -> Problem:
    name = Path(problem.file).name
    inside = Path(problem.file).parent == root or problem.file.startswith(str(root))
    file = name if inside and name == PASTED_FILE else "live lists" if inside else problem.file
    return Problem(file, problem.line, problem.column, problem.message.replace(str(root), "."))


def _outcome(rule_id: str, name: str, match: Match | None) -> RuleOutcome:
    evidence: tuple[tuple[str, Markup], ...] = ()
    if match is not None:
        words = [e.text for e in match.evidence]
        snippets = dict.fromkeys((e.field, e.snippet) for e in match.evidence)
        evidence = tuple((f, highlight_terms(s, words)) for f, s in snippets)
    return RuleOutcome(rule_id, name, match is not None, match, evidence)


def _marked(text: str, evidence: Iterable[Evidence], field: str) -> Markup:
    return highlight_spans(text, [(e.start, e.end) for e in evidence if e.field == field])


def run_playground(given: PlaygroundInput, live: RuleSet) -> PlaygroundResult:
    """Evaluate the article; pasted YAML wins over chosen rules, chosen over all live rules."""
    try:
        article = Article(id="playground", title=given.title, body=given.body,
                          source="playground")
    except ValidationError as exc:
        return PlaygroundResult(mode="error", error=exc.errors()[0]["msg"])
    if given.rule_yaml.strip():
        try:
            ruleset, ids = load_pasted(given.rule_yaml, live)
        except RuleError as exc:
            return PlaygroundResult(mode="pasted", problems=exc.problems)
        outcomes = [
            _outcome(rid, ruleset.rule(rid).name, ruleset.evaluate_rule(rid, article))
            for rid in sorted(ids)
        ]
        mode = "pasted"
    elif chosen := [r for r in dict.fromkeys(given.rules) if r in {x.id for x in live.rules}]:
        outcomes = [
            _outcome(rid, live.rule(rid).name, live.evaluate_rule(rid, article))
            for rid in chosen
        ]
        mode = "chosen"
    else:
        # Every enabled live rule, as the worker would run them; only the ones that fire show.
        outcomes = [_outcome(m.rule_id, m.rule_name, m) for m in live.evaluate(article)]
        mode = "live"
    evidence = [e for o in outcomes if o.match is not None for e in o.match.evidence]
    checked = len(outcomes) if mode != "live" else sum(1 for r in live.rules if r.enabled)
    return PlaygroundResult(
        mode=mode,
        outcomes=tuple(outcomes),
        checked=checked,
        title=_marked(article.title, evidence, "title"),
        body=_marked(article.body, evidence, "body"),
    )


def prefill(alert: Alert) -> PlaygroundInput:
    """A recent alert's article as far as the alert carries it: the title and the excerpts.

    Alerts do not repeat the full body, so the body is rebuilt from the evidence snippets.
    """
    excerpts = dict.fromkeys(
        e.snippet.strip("…").strip() for e in alert.evidence if e.field == "body"
    )
    return PlaygroundInput(title=alert.article.title, body="\n\n".join(excerpts))
