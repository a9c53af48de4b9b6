"""An in-memory consumer with both brokers' answers, and small rule packs for replay tests.

``FakeConsumer`` keeps a log per partition made of batches. In ``kafka`` mode it answers
list-offsets and offsets-for-times as Apache Kafka does; in ``tansu`` mode it reproduces what
the embedded broker was measured to do (see docs/replay.md): the end offset is the last
batch's base offset plus one, an offset-for-time lookup compares the broker's own append time
per batch, and "nothing found" comes back as offset 0 with timestamp -1.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kafka import TopicPartition
from kafka.structs import OffsetAndTimestamp

__all__ = ["TOPIC", "Batch", "FakeConsumer", "Rec", "article_json", "write_rules"]

TOPIC = "articles"


@dataclass(frozen=True)
class Rec:
    partition: int
    offset: int
    timestamp: int
    value: bytes


@dataclass(frozen=True)
class Batch:
    """Records appended at once: their own timestamps, and the broker's append time."""

    stamps: tuple[int, ...]
    appended: int
    values: tuple[bytes, ...] = ()


@dataclass
class FakeConsumer:
    batches: Mapping[int, Sequence[Batch]]
    mode: Literal["kafka", "tansu"] = "kafka"
    per_poll: int = 3
    stall: bool = False
    handed: int = 0
    assignments: int = 0
    assigned: list[Any] = field(default_factory=list)
    positions: dict[Any, int] = field(default_factory=dict)
    watermarks: dict[Any, int] = field(default_factory=dict)
    closed: bool = False

    def __post_init__(self) -> None:
        self.log: dict[int, list[Rec]] = {}
        self.bases: dict[int, list[tuple[int, Batch]]] = {}
        for partition, batches in self.batches.items():
            records: list[Rec] = []
            bases = []
            for batch in batches:
                bases.append((len(records), batch))
                for i, stamp in enumerate(batch.stamps):
                    value = batch.values[i] if batch.values else b"%d" % stamp
                    records.append(Rec(partition, len(records), stamp, value))
            self.log[partition] = records
            self.bases[partition] = bases

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return set(self.log) if topic == TOPIC else None

    def beginning_offsets(self, partitions: Sequence[Any]) -> dict[Any, int]:
        return {tp: 0 for tp in partitions}

    def end_offsets(self, partitions: Sequence[Any]) -> dict[Any, int]:
        result = {}
        for tp in partitions:
            bases = self.bases[tp.partition]
            if self.mode == "tansu":
                result[tp] = bases[-1][0] + 1 if bases else 0
            else:
                result[tp] = len(self.log[tp.partition])
        return result

    def offsets_for_times(self, timestamps: Mapping[Any, int]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for tp, wanted in timestamps.items():
            if self.mode == "tansu":
                hit = next(
                    ((base, b) for base, b in self.bases[tp.partition] if b.appended >= wanted),
                    None,
                )
                result[tp] = (
                    OffsetAndTimestamp(hit[0], hit[1].appended, 0)
                    if hit else OffsetAndTimestamp(0, -1, 0)
                )
            else:
                rec = next((r for r in self.log[tp.partition] if r.timestamp >= wanted), None)
                result[tp] = None if rec is None else OffsetAndTimestamp(
                    rec.offset, rec.timestamp, 0
                )
        return result

    def assign(self, partitions: Sequence[Any]) -> None:
        """Like kafka-python: partitions kept in the assignment keep their state."""
        kept = set(partitions) & set(self.assigned)
        self.assigned = list(partitions)
        self.positions = {tp: o for tp, o in self.positions.items() if tp in kept}
        self.watermarks = {tp: w for tp, w in self.watermarks.items() if tp in kept}
        self.assignments += 1

    def seek(self, partition: Any, offset: int) -> None:
        self.positions[partition] = offset

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Rec]]:
        del timeout_ms
        if self.stall:
            return {}
        out: dict[Any, list[Rec]] = {}
        budget = max_records or 10**9
        for tp in self.assigned:
            log = self.log[tp.partition]
            self.watermarks[tp] = len(log)
            if budget <= 0:
                continue
            start = self.positions[tp]
            take = log[start : start + min(self.per_poll, budget)]
            if take:
                out[tp] = take
                budget -= len(take)
                self.handed += len(take)
                self.positions[tp] = start + len(take)
        return out

    def position(self, partition: Any) -> int:
        return self.positions[partition]

    def highwater(self, partition: Any) -> int | None:
        return self.watermarks.get(partition)

    def close(self) -> None:
        self.closed = True


def tp(partition: int) -> TopicPartition:
    return TopicPartition(TOPIC, partition)


PORT_RULES = """\
lists:
  ports:
    Harbourton: [Harbourton docks]
    Saltmere: [Saltmere quay]
  stoppage: [strike*, walkout, "down tools"]
rules:
  - id: port-strike
    name: Dock workers stop work at a port
    severity: {severity}
    entity: $ports
    when:
      all:
        - any: [$ports]
        - any: [$stoppage]
    alert:
      title: "Stoppage at {{{{ entity }}}}"
"""

CRANE_RULE = """\
  - id: crane-failure
    name: A crane breaks down at a port
    severity: low
    entity: $ports
    when:
      all:
        - any: [$ports]
        - any: [crane]
    alert:
      title: "Crane trouble at {{{{ entity }}}}"
"""


def write_rules(directory: Path, *, severity: str = "medium", crane: bool = False) -> Path:
    """A small pack of the project's own invention, with knobs a backtest can turn."""
    directory.mkdir(parents=True, exist_ok=True)
    text = PORT_RULES + (CRANE_RULE if crane else "")
    (directory / "ports.yml").write_text(textwrap.dedent(text.format(severity=severity)))
    return directory


def article_json(ident: str, body: str, *, source: str = "Coast Radio",
                 published: str = "2026-03-02T08:00:00Z") -> bytes:
    return json.dumps({
        "id": ident, "title": f"Report {ident}", "body": body, "source": source,
        "url": f"https://coast.example/{ident}", "published_at": published,
    }).encode()
