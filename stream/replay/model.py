"""What a replay reads: records from a topic range or a file, and how a range is written.

A range is parsed once at the edge (the CLI or a suite file) into a frozen :class:`TopicRange`,
so the reader never sees raw option strings. Times accept an absolute ISO 8601 moment or a
duration counted back from now (``7d`` is "the last week"), because "what would last week
have done" is the question users ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, model_validator

from stream.engine.schema import parse_duration
from stream.errors import ConfigError, NewsalertError, Problem, RuleError

__all__ = [
    "ReplayError",
    "SourceRecord",
    "SuiteError",
    "TopicRange",
    "parse_offsets",
    "parse_time",
]


class ReplayError(NewsalertError, RuntimeError):
    """A replay could not read its range (broker unreachable, a partition stalled)."""


class SuiteError(RuleError):
    """A regression suite file is invalid; ``problems`` locate each error as file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One raw input message, before validation.

    ``partition`` is None for a file, and ``offset`` is then the line number, so every
    invalid input can be pointed at. ``timestamp_ms`` is the Kafka record timestamp (None
    for a file: the article's own ``published_at`` stands in).
    """

    partition: int | None
    offset: int
    timestamp_ms: int | None
    value: bytes | None

    @property
    def where(self) -> str:
        """``p2@41`` for a topic record, ``line 41`` for a file line."""
        if self.partition is None:
            return f"line {self.offset}"
        return f"p{self.partition}@{self.offset}"

    @property
    def moment(self) -> datetime | None:
        if self.timestamp_ms is None or self.timestamp_ms < 0:
            return None
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An aware UTC datetime from ``2026-11-20T09:30:00Z``, ``2026-11-20`` or ``36h`` (ago).

    A naive ISO time is read as UTC, like the rest of the project does.
    """
    value = text.strip()
    if not value:
        raise ConfigError("empty time: write e.g. 2026-11-20T09:30:00Z or 7d (ago)")
    if value[-1] in "smhd" and value[:-1].replace(".", "", 1).isdigit():
        seconds = parse_duration(value)
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f"not a time: {text!r} (write e.g. 2026-11-20T09:30:00Z, 2026-11-20 or 7d)"
            ) from None
        moment = datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_offsets(text: str) -> dict[int, int]:
    """``0:120,2:7`` -> {0: 120, 2: 7}: where each listed partition starts."""
    offsets: dict[int, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        left, sep, right = part.partition(":")
        if not sep or not left.strip().isdigit() or not right.strip().isdigit():
            raise ConfigError(
                f"bad offset {part!r}: write PARTITION:OFFSET pairs, e.g. 0:120,2:7"
            )
        partition = int(left)
        if partition in offsets:
            raise ConfigError(f"partition {partition} is given twice in {text!r}")
        offsets[partition] = int(right)
    if not offsets:
        raise ConfigError("no offsets given: write PARTITION:OFFSET pairs, e.g. 0:120,2:7")
    return offsets


class TopicRange(BaseModel):
    """Where a replay starts (one of three ways) and, optionally, when it stops.

    With none of the start options, the replay starts at the beginning. ``offsets`` replays
    only the partitions it lists; the other starts cover every partition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_beginning: bool = False
    since: datetime | None = None
    offsets: dict[int, int] | None = None
    until: datetime | None = None

    @model_validator(mode="after")
    def _one_start(self) -> TopicRange:
        given = [
            name
            for name, on in (
                ("--from-beginning", self.from_beginning),
                ("--since", self.since is not None),
                ("--offsets", self.offsets is not None),
            )
            if on
        ]
        if len(given) > 1:
            raise ValueError(f"choose one start: {' or '.join(given)}")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("--until must be later than --since")
        return self

    @property
    def since_ms(self) -> int | None:
        return None if self.since is None else _ms(self.since)

    @property
    def until_ms(self) -> int | None:
        return None if self.until is None else _ms(self.until)

    def describe(self) -> str:
        """The range in the words of the command line, for summaries."""
        if self.offsets is not None:
            start = "offsets " + ",".join(f"{p}:{o}" for p, o in sorted(self.offsets.items()))
        elif self.since is not None:
            start = f"since {self.since.isoformat()}"
        else:
            start = "from the beginning"
        end = f" until {self.until.isoformat()}" if self.until else " to the end"
        return start + end


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

