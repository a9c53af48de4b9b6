"""Pydantic models of a rule file: the single source of truth for validation and JSON Schema.

Every model forbids unknown keys, so a typo ("whne:") is an error with a did-you-mean rather
than a silently ignored rule. Unions are discriminated by shape (a string is a term, a mapping
is a nested condition...), so one mistake gives one error message, not one per union member.
``rules/schema.json`` is generated from :class:`RuleFile` (``newsalert rules schema``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from stream.models import Severity

__all__ = [
    "DURATION_PATTERN",
    "RULE_ID_PATTERN",
    "AlertSpec",
    "Condition",
    "DerivedList",
    "Duration",
    "EscalateSpec",
    "Example",
    "ExpectSpec",
    "FieldName",
    "ListDef",
    "Rule",
    "RuleFile",
    "ThresholdSpec",
    "json_schema",
    "parse_duration",
]

FieldName = Literal["title", "body"]
DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*[smhd]\s*$"
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
_ID_OR_TEMPLATE = r"^([a-z0-9._-]|\$\{[A-Za-z_]\w*\.[A-Za-z_]\w*\})+$"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Duration = Annotated[
    Annotated[str, StringConstraints(pattern=DURATION_PATTERN), Tag("text")]
    | Annotated[int, Field(gt=0), Tag("seconds")],
    Discriminator(lambda v: "seconds" if isinstance(v, int) and v is not True else "text"),
]
Term = Annotated[str, StringConstraints(min_length=1)]


def parse_duration(value: str | int) -> float:
    """Seconds in a duration like ``30s``, ``15m``, ``12h``, ``7d`` (a bare number is seconds)."""
    if isinstance(value, int):
        return float(value)
    text = value.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text)
    if match is None:
        raise ValueError(f"not a duration: {value!r} (write e.g. 30s, 15m, 12h or 7d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )


def _item_kind(value: Any) -> str:
    return "condition" if isinstance(value, dict | Condition) else "term"


def _group_kind(value: Any) -> str:
    return "terms" if isinstance(value, list | tuple) else "term"


Item = Annotated[
    Annotated[Term, Tag("term")] | Annotated["Condition", Tag("condition")],
    Discriminator(_item_kind),
]
NearGroup = Annotated[
    Annotated[Term, Tag("term")] | Annotated[list[Term], Tag("terms"), Field(min_length=1)],
    Discriminator(_group_kind),
]

_OPERATORS = ("any", "all", "none", "near")


class Condition(_Model):
    """One test over the article: exactly one of ``any``, ``all``, ``none`` or ``near``."""

    any_: list[Item] | None = Field(
        None, alias="any", min_length=1, description="Holds when at least one item holds."
    )
    all_: list[Item] | None = Field(
        None, alias="all", min_length=1, description="Holds when every item holds."
    )
    none: list[Item] | None = Field(
        None, min_length=1, description="Holds when no item holds."
    )
    near: list[NearGroup] | None = Field(
        None,
        min_length=2,
        description="A term of every group within `within` tokens (one sentence by default).",
    )
    within: int | None = Field(None, ge=1, le=500, description="Token distance for near.")
    across_sentences: bool | None = Field(
        None, description="Let near span sentence boundaries (default false)."
    )
    fields: list[FieldName] | None = Field(
        None, min_length=1, description="Fields this condition looks at (default: inherited)."
    )

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        used = [op for op in _OPERATORS if self.operator_items(op) is not None]
        if len(used) != 1:
            found = ", ".join(used) if used else "none of them"
            raise ValueError(
                "a condition needs exactly one of any, all, none, near "
                f"(found {found}); split it into an `all:` of separate conditions"
            )
        if used[0] != "near" and (self.within is not None or self.across_sentences is not None):
            raise ValueError("`within` and `across_sentences` only apply to `near`")
        return self

    def operator_items(self, op: str) -> list[Any] | None:
        """Items of operator ``op`` (``any``/``all``/``none``/``near``), or None if unused."""
        value: list[Any] | None = {
            "any": self.any_,
            "all": self.all_,
            "none": self.none,
            "near": self.near,
        }[op]
        return value

    @property
    def operator(self) -> str:
        """The one operator this condition uses."""
        return next(op for op in _OPERATORS if self.operator_items(op) is not None)


class DerivedList(_Model):
    """Entries of another entity list, by canonical name: ``{from: states, only: [...]}``."""

    from_: str = Field(alias="from", min_length=1)
    only: list[Term] = Field(min_length=1)


def _list_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "derived" if "from" in value or "only" in value else "entities"
    return "terms"


ListDef = Annotated[
    Annotated[list[Term], Tag("terms"), Field(min_length=1)]
    | Annotated[dict[str, list[Term] | None], Tag("entities"), Field(min_length=1)]
    | Annotated[DerivedList, Tag("derived")],
    Discriminator(_list_kind),
]


class AlertSpec(_Model):
    """Jinja2 templates (sandboxed) over ``entity``, ``rule``, ``article`` and ``evidence``."""

    title: str | None = None
    text: str | None = None


class ExpectSpec(_Model):
    """What an example must produce when the rule fires."""

    entity: str | None = None
    title: str | None = None
    severity: Severity | None = None


class Example(_Model):
    """An inline test: a short article and what the rule must do with it."""

    text: str | None = Field(None, description="Body text (shorthand for body).")
    title: str | None = None
    body: str | None = None
    expect: Annotated[
        Annotated[Literal["none", "match"], Tag("word")] | Annotated[ExpectSpec, Tag("spec")],
        Discriminator(lambda v: "spec" if isinstance(v, dict | ExpectSpec) else "word"),
    ] = Field(description="`none`, `match`, or what the match must carry, e.g. {entity: X}.")
    for_: str | None = Field(
        None, alias="for", description="Run only for the for_each item with this id."
    )
    note: str | None = None

    @model_validator(mode="after")
    def _has_text(self) -> Example:
        if not (self.text or self.title or self.body):
            raise ValueError("an example needs `text`, `title` or `body`")
        if self.text and self.body:
            raise ValueError("give either `text` or `body`, not both")
        return self


class ThresholdSpec(_Model):
    """Fire only once this many distinct sources reported within the window."""

    sources: int = Field(ge=1)
    within: Duration


class EscalateSpec(_Model):
    """Raise severity once this many distinct sources are reached."""

    sources: int = Field(ge=2)
    severity: Severity


ForEachItems = list[dict[str, str]] | Annotated[str, StringConstraints(pattern=r"^@\w[\w-]*$")]


class Rule(_Model):
    """One alerting rule. ``${var.field}`` in any string is filled in per ``for_each`` item."""

    id: Annotated[str, StringConstraints(pattern=_ID_OR_TEMPLATE, max_length=120)]
    name: Annotated[str, StringConstraints(min_length=1)]
    description: str | None = None
    severity: Severity = "medium"
    enabled: bool = True
    tags: list[str] = []
    cameo: list[Annotated[str, StringConstraints(pattern=r"^\d{2,4}$")]] = []
    entity: Annotated[str, StringConstraints(pattern=r"^\$\$?[\w${}.-]+$")] | None = None
    fields: list[FieldName] | None = Field(None, min_length=1)
    when: Condition
    alert: AlertSpec = AlertSpec()
    dedup: Duration | None = None
    threshold: ThresholdSpec | None = None
    escalate: list[EscalateSpec] = []
    examples: list[Example] = []
    for_each: dict[str, ForEachItems] | None = Field(
        None, description="Expand into one rule per item: inline items or '@table'."
    )


class RuleFile(_Model):
    """A YAML rule file: shared lists, tables of for_each items, and rules."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        populate_by_name=True,
        title="newsalert rule file",
    )

    as_of: dt.date | None = Field(None, description="When the data in lists was last checked.")
    lists: dict[str, ListDef] = {}
    tables: dict[str, list[dict[str, str]]] = {}
    rules: list[Rule] = []


def json_schema() -> str:
    """The JSON Schema of a rule file, as shipped in ``rules/schema.json`` for editors."""
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://newsalert.dev/schemas/rule-file.json",
        **RuleFile.model_json_schema(by_alias=True),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
