"""Inline examples of rules: each one an article and what the rule should do with it."""

from __future__ import annotations

from dataclasses import dataclass

from stream.engine.evaluate import CompiledRule
from stream.engine.schema import Example, ExpectSpec
from stream.models import Article, Match

__all__ = ["CompiledExample", "ExampleResult", "check_example"]


@dataclass(frozen=True, slots=True)
class CompiledExample:
    """An inline example of a rule, as an article and an expectation."""

    rule_id: str
    index: int
    file: str
    line: int
    article: Article
    expect: str | ExpectSpec

    @classmethod
    def of(
        cls, rule: CompiledRule, example: Example, index: int, file: str, line: int
    ) -> CompiledExample:
        article = Article(
            id=f"example:{rule.id}:{index}",
            title=example.title or "",
            body=example.text or example.body or "",
            source="example",
        )
        return cls(rule.id, index, file, line, article, example.expect)


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """Outcome of one example: passed or not, why, and the match if the rule fired."""

    example: CompiledExample
    passed: bool
    reason: str
    match: Match | None


def check_example(expect: str | ExpectSpec, match: Match | None) -> tuple[bool, str]:
    """Whether ``match`` is what an example expects, and why (one line)."""
    if expect == "none":
        if match is None:
            return True, "no match, as expected"
        return False, f"expected no match, got one (entity {match.entity})"
    if match is None:
        return False, "expected a match, got none"
    if isinstance(expect, str):
        return True, "matched"
    wrong = []
    if "entity" in expect.model_fields_set and match.entity != expect.entity:
        wrong.append(f"entity {match.entity!r}, expected {expect.entity!r}")
    if expect.title is not None and match.title != expect.title:
        wrong.append(f"title {match.title!r}, expected {expect.title!r}")
    if expect.severity is not None and match.severity != expect.severity:
        wrong.append(f"severity {match.severity}, expected {expect.severity}")
    if wrong:
        return False, "; ".join(wrong)
    return True, "matched" + (f" (entity {match.entity})" if match.entity else "")
