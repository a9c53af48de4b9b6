"""Dead-lettered alerts: list what is waiting on ``<alerts>.dlq`` and send it again once fixed.

Redrive goes through the worker, not around it. ``redrive`` re-publishes the alert to the
alerts topic under its usual key (so it lands in the partition, and therefore the delivery
ledger partition, that handled it first) with a ``newsalert-redrive: <destination>`` header.
The worker's deliver agent sees the header and delivers to that one destination with
``Dispatcher.deliver(..., redrive=True)``: the ledger's ``dead`` mark is overridden, but a
``delivered`` mark still wins, so a second redrive of the same letter posts nothing, and a
follow-up alert still finds its Slack thread.

After publishing, ``redrive`` appends a marker record to the DLQ saying which letters (up to
which offset) were redriven; ``list`` folds the topic in offset order and hides letters a
marker covers. If the redrive fails again, the worker dead-letters anew, at a later offset the
marker does not cover, so the letter shows up again. A crash between the re-publish and the
marker leaves the letter listed; redriving it again is harmless because of the ledger.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from stream.delivery import DeadLetter, Dispatcher, DispatchReport
from stream.models import Alert

__all__ = [
    "MARKER_HEADER",
    "REDRIVE_HEADER",
    "DlqRecord",
    "DlqView",
    "PendingLetter",
    "RedriveMarker",
    "fold",
    "read_dlq",
    "redrive",
    "redrive_destination",
    "submit_redrive",
]

REDRIVE_HEADER = "newsalert-redrive"
MARKER_HEADER = "newsalert-dlq-marker"


class RedriveMarker(BaseModel):
    """A DLQ record saying: letters for this alert and destination up to ``up_to`` are redriven."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["redriven"] = "redriven"
    alert_id: str
    destination: str
    partition: int
    up_to: int
    at: datetime


@dataclass(frozen=True, slots=True)
class DlqRecord:
    """One record as read from the DLQ topic, before interpretation."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class PendingLetter(BaseModel):
    """The newest dead letter of one (alert, destination) that no marker covers yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    letter: DeadLetter
    partition: int
    offset: int
    letters: int = 1

    @property
    def alert_id(self) -> str:
        return self.letter.alert.id

    @property
    def destination(self) -> str:
        return self.letter.destination


@dataclass(frozen=True, slots=True)
class DlqView:
    """What the DLQ holds: letters waiting, and offsets of records nobody can read."""

    pending: tuple[PendingLetter, ...]
    redriven: int
    unreadable: tuple[tuple[int, int], ...]


def _is_marker(record: DlqRecord) -> bool:
    return any(name == MARKER_HEADER for name, _ in record.headers)


def fold(records: Iterable[DlqRecord]) -> DlqView:
    """Replay the DLQ in offset order: letters add up per (alert, destination), markers clear.

    Pure, so the list/redrive semantics are tested without a broker.
    """
    pending: dict[tuple[str, str], PendingLetter] = {}
    redriven = 0
    unreadable: list[tuple[int, int]] = []
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        raw = record.value or b""
        try:
            if _is_marker(record):
                marker = RedriveMarker.model_validate_json(raw)
                key = (marker.alert_id, marker.destination)
                seen = pending.get(key)
                if (
                    seen is not None
                    and seen.partition == marker.partition
                    and seen.offset <= marker.up_to
                ):
                    del pending[key]
                    redriven += 1
                continue
            letter = DeadLetter.model_validate_json(raw)
        except ValidationError:
            unreadable.append((record.partition, record.offset))
            continue
        key = (letter.alert.id, letter.destination)
        before = pending.get(key)
        pending[key] = PendingLetter(
            letter=letter,
            partition=record.partition,
            offset=record.offset,
            letters=1 if before is None else before.letters + 1,
        )
    ordered = sorted(pending.values(), key=lambda p: (p.partition, p.offset))
    return DlqView(pending=tuple(ordered), redriven=redriven, unreadable=tuple(unreadable))


def read_dlq(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[DlqRecord]:
    """Read ``topic`` from the beginning to its current end with a group-less consumer.

    No group, no commits: listing never moves anyone's offsets and can run any number of times.
    """
    from kafka import KafkaConsumer, TopicPartition

    from stream.errors import BrokerError

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=int(timeout_s * 1000) + 1000,
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise BrokerError(f"topic {topic!r} does not exist on {bootstrap}")
        assignment = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assignment)
        consumer.seek_to_beginning(*assignment)
        ends = consumer.end_offsets(assignment)
        records: list[DlqRecord] = []
        stop_at = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in assignment):
            if time.monotonic() > stop_at:
                raise BrokerError(f"timed out reading {topic!r} after {timeout_s:.0f}s")
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for msg in batch:
                    if msg.offset >= ends[tp]:
                        continue
                    records.append(
                        DlqRecord(
                            partition=msg.partition,
                            offset=msg.offset,
                            key=msg.key,
                            value=msg.value,
                            headers=tuple((k, v or b"") for k, v in msg.headers or ()),
                        )
                    )
        return records
    finally:
        consumer.close()


def redrive(
    bootstrap: str,
    alerts_topic: str,
    dlq_topic: str,
    select: Callable[[PendingLetter], bool],
    *,
    now: datetime | None = None,
    timeout_s: float = 30.0,
) -> list[PendingLetter]:
    """Queue the selected pending letters for redelivery by the workers; returns them.

    Each alert is re-published (acknowledged by the broker) before its marker is written, so
    a letter is never hidden without having been re-sent.
    """
    from kafka import KafkaProducer

    chosen = [p for p in fold(read_dlq(bootstrap, dlq_topic, timeout_s=timeout_s)).pending
              if select(p)]
    if not chosen:
        return []
    at = now or datetime.now(UTC)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for pending in chosen:
            alert = pending.letter.alert
            producer.send(
                alerts_topic,
                key=(alert.thread_id or alert.id).encode(),  # the key the worker used
                value=alert.model_dump_json().encode(),
                headers=[(REDRIVE_HEADER, pending.destination.encode())],
            ).get(timeout=timeout_s)
        for pending in chosen:
            marker = RedriveMarker(
                alert_id=pending.alert_id,
                destination=pending.destination,
                partition=pending.partition,
                up_to=pending.offset,
                at=at,
            )
            producer.send(
                dlq_topic,
                key=pending.alert_id.encode(),
                value=marker.model_dump_json().encode(),
                partition=pending.partition,
                headers=[(MARKER_HEADER, b"redriven")],
            ).get(timeout=timeout_s)
    finally:
        producer.close(timeout=timeout_s)
    return chosen


def redrive_destination(headers: Mapping[str, bytes] | None) -> str | None:
    """The destination a record on the alerts topic asks to redrive, or None for a new alert."""
    if not headers:
        return None
    raw = headers.get(REDRIVE_HEADER)
    if not raw:
        return None
    return raw.decode("utf-8", "replace")


def submit_redrive(
    dispatcher: Dispatcher, alert: Alert, destination: str
) -> asyncio.Task[DispatchReport]:
    """Deliver ``alert`` to ``destination`` once more, overriding a ``dead`` ledger mark.

    Runs in the destination's lane like any delivery, so it keeps the lane's order and pacing;
    the returned task completes with a one-destination report, like ``Dispatcher.submit``.
    """

    async def one() -> DispatchReport:
        outcome = await dispatcher.deliver(alert, destination, redrive=True)
        return DispatchReport(alert_id=alert.id, outcomes=(outcome,))

    return asyncio.create_task(one(), name=f"redrive {alert.id} -> {destination}")
