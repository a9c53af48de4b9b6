"""Regression suites: pin an input and the number of alerts each rule gives on it.

A suite is a YAML file (paths relative to it)::

    name: bundled sample articles
    rules: [../../rules]
    input: ../../examples/articles.jsonl     # or  topic: {name: articles, since: 7d}
    expect:
      csto-member-skips-summit: 1
    unlisted: zero                           # rules not listed must not alert (or: ignore)

The input is replayed exactly as ``newsalert replay`` would (fresh state, record time as the
clock), so a suite pins what the rules *and* their dedup and thresholds do. Any drift, in
either direction, fails the suite: a rule that starts firing more often is as suspect as one
that goes quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stream.engine import RuleSet
from stream.engine.source import read_source
from stream.errors import ConfigError, Problem
from stream.replay.model import SourceRecord, SuiteError, TopicRange, parse_offsets, parse_time
from stream.replay.reader import file_records
from stream.replay.run import Replayer, ReplayStats

__all__ = ["RuleCheck", "Suite", "SuiteResult", "SuiteTopic", "check_suite", "load_suite"]


class SuiteTopic(BaseModel):
    """A topic range as suite keys (times as ISO or ``7d``; offsets as ``0:10,1:4``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    from_beginning: bool = False
    since: str | None = None
    until: str | None = None
    offsets: str | None = None

    def span(self) -> TopicRange:
        return TopicRange(
            from_beginning=self.from_beginning,
            since=parse_time(self.since) if self.since else None,
            until=parse_time(self.until) if self.until else None,
            offsets=parse_offsets(self.offsets) if self.offsets else None,
        )


class Suite(BaseModel):
    """One regression suite, paths already resolved against the suite file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    rules: tuple[Path, ...] = Field(min_length=1)
    input: Path | None = None
    topic: SuiteTopic | None = None
    expect: dict[str, int] = Field(min_length=1)
    unlisted: Literal["zero", "ignore"] = "zero"

    @field_validator("rules", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("expect")
    @classmethod
    def _counts(cls, value: dict[str, int]) -> dict[str, int]:
        negative = [rule for rule, count in value.items() if count < 0]
        if negative:
            raise ValueError(f"a count is 0 or more (see {', '.join(negative)})")
        return value


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule's expected and actual alert counts."""

    rule_id: str
    expected: int | None
    actual: int

    @property
    def ok(self) -> bool:
        return self.expected is None or self.expected == self.actual


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """Every rule checked, and the replay behind it (articles, invalid inputs)."""

    suite: Suite
    checks: tuple[RuleCheck, ...]
    stats: ReplayStats

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def load_suite(path: Path) -> Suite:
    """Read and validate a suite file; problems are reported as file:line like rule files."""
    problems: list[Problem] = []
    source = read_source(path, problems)
    if source is None:
        raise SuiteError(problems)
    try:
        suite = Suite.model_validate(source.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown key '{loc[-1]}'"
            elif err["type"] == "missing":
                message = f"missing required key '{loc[-1]}'"
            problems.append(source.where.problem(loc, message))
        raise SuiteError(problems) from None
    where = source.where
    if (suite.input is None) == (suite.topic is None):
        raise SuiteError([where.problem((), "give exactly one of `input` (a file) or `topic`")])
    base = path.parent
    try:
        if suite.topic is not None:
            suite.topic.span()
    except (ConfigError, ValidationError) as exc:
        raise SuiteError([where.problem(("topic",), str(exc))]) from None
    return suite.model_copy(
        update={
            "rules": tuple(base / p for p in suite.rules),
            "input": base / suite.input if suite.input is not None else None,
        }
    )


def check_suite(
    suite: Suite, ruleset: RuleSet, records: Iterable[SourceRecord] | None = None
) -> SuiteResult:
    """Replay the suite's input (or ``records``) and compare the counts per rule."""
    if records is None:
        if suite.input is None:
            raise ConfigError("a topic suite needs its records read by the caller")
        records = file_records(suite.input)
    unknown = sorted(set(suite.expect) - {rule.id for rule in ruleset.rules})
    if unknown:
        raise ConfigError(
            f"suite names rules that are not in the rule set: {', '.join(unknown)}"
        )
    replayer = Replayer(ruleset)
    for _ in replayer.run(records):
        pass
    counts = replayer.stats.alerts
    checks = [
        RuleCheck(rule, expected, counts.get(rule, 0))
        for rule, expected in sorted(suite.expect.items())
    ]
    for rule_id in sorted(set(counts) - set(suite.expect)):
        checks.append(
            RuleCheck(rule_id, 0 if suite.unlisted == "zero" else None, counts[rule_id])
        )
    return SuiteResult(suite, tuple(checks), replayer.stats)
