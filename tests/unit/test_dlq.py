"""Dead-letter listing and redrive semantics, without a broker: the DLQ fold, the redrive
header, and a redrive through a real Dispatcher whose ledger marks the destination dead."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from stream.cli import _register, app
from stream.delivery import DeadLetter, Dispatcher, Receipt, RetryPolicy
from stream.delivery.router import Router
from stream.delivery.subscriptions import ConsoleDestination, Route, Subscriptions
from stream.dlq import (
    MARKER_HEADER,
    REDRIVE_HEADER,
    DlqRecord,
    RedriveMarker,
    fold,
    redrive_destination,
    submit_redrive,
)
from stream.errors import DeliveryError
from stream.models import Alert, Article, Match

AT = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)


def _alert(n: int) -> Alert:
    article = Article(
        id=f"dispatch-{n}",
        title=f"Ferry line {n} suspends crossings",
        body="The operator halted every crossing after the storm damaged the pier.",
        source="harbour-gazette",
    )
    match = Match(
        rule_id="ferry-suspended",
        rule_name="Ferry suspended",
        rule_version="v1",
        severity="medium",
        entity="Port Alder",
        title="Ferry crossings halted",
    )
    return Alert.from_match(match, article, now=AT)


def _letter(n: int, destination: str = "partner") -> DeadLetter:
    return DeadLetter(
        alert=_alert(n),
        destination=destination,
        reason="retries_exhausted",
        attempts=3,
        last_error="connection refused",
        failed_at=AT,
    )


def _rec(offset: int, item: DeadLetter | RedriveMarker | bytes, partition: int = 0) -> DlqRecord:
    if isinstance(item, RedriveMarker):
        return DlqRecord(partition, offset, item.alert_id.encode(),
                         item.model_dump_json().encode(), ((MARKER_HEADER, b"redriven"),))
    if isinstance(item, DeadLetter):
        return DlqRecord(partition, offset, item.alert.id.encode(),
                         item.model_dump_json().encode())
    return DlqRecord(partition, offset, None, item)


def _marker(n: int, up_to: int, destination: str = "partner", partition: int = 0) -> RedriveMarker:
    return RedriveMarker(alert_id=_alert(n).id, destination=destination,
                         partition=partition, up_to=up_to, at=AT)


# (records, expected pending as (alert n, destination, offset, letters), redriven count)
CASES: list[tuple[str, list[DlqRecord], list[tuple[int, str, int, int]], int]] = [
    ("empty topic", [], [], 0),
    ("two letters wait", [_rec(0, _letter(1)), _rec(1, _letter(2))],
     [(1, "partner", 0, 1), (2, "partner", 1, 1)], 0),
    ("a marker hides the letter it covers",
     [_rec(0, _letter(1)), _rec(1, _letter(2)), _rec(2, _marker(1, up_to=0))],
     [(2, "partner", 1, 1)], 1),
    ("a failure after the redrive shows again",
     [_rec(0, _letter(1)), _rec(1, _marker(1, up_to=0)), _rec(2, _letter(1))],
     [(1, "partner", 2, 1)], 1),
    ("a marker covers only letters up to its offset",
     [_rec(0, _letter(1)), _rec(3, _letter(1)), _rec(4, _marker(1, up_to=0))],
     [(1, "partner", 3, 2)], 0),
    ("repeated failures fold into one row, newest letter kept",
     [_rec(0, _letter(1)), _rec(5, _letter(1)), _rec(9, _letter(1))],
     [(1, "partner", 9, 3)], 0),
    ("a marker for another destination changes nothing",
     [_rec(0, _letter(1, "desk")), _rec(1, _marker(1, up_to=0, destination="partner"))],
     [(1, "desk", 0, 1)], 0),
    ("a marker for another partition changes nothing",
     [_rec(0, _letter(1), partition=1), _rec(1, _marker(1, up_to=5, partition=0))],
     [(1, "partner", 0, 1)], 0),
    ("offset order wins over arrival order",
     [_rec(2, _marker(1, up_to=1)), _rec(1, _letter(1))], [], 1),
    ("destinations of one alert are separate rows",
     [_rec(0, _letter(1, "desk")), _rec(1, _letter(1, "partner"))],
     [(1, "desk", 0, 1), (1, "partner", 1, 1)], 0),
]


@pytest.mark.parametrize(("records", "expected", "redriven"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fold(records: list[DlqRecord], expected: list[tuple[int, str, int, int]],
              redriven: int) -> None:
    view = fold(records)
    got = [(p.alert_id, p.destination, p.offset, p.letters) for p in view.pending]
    assert got == [(_alert(n).id, d, o, c) for n, d, o, c in expected]
    assert view.redriven == redriven
    assert view.unreadable == ()


def test_fold_reports_unreadable_records_and_goes_on() -> None:
    broken_marker = DlqRecord(0, 2, b"x", b"{}", ((MARKER_HEADER, b"redriven"),))
    view = fold([_rec(0, b"not json"), _rec(1, _letter(1)), broken_marker])
    assert view.unreadable == ((0, 0), (0, 2))
    assert [p.alert_id for p in view.pending] == [_alert(1).id]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, None),
        ({}, None),
        ({"newsalert-sent-at": b"123"}, None),
        ({REDRIVE_HEADER: b""}, None),
        ({REDRIVE_HEADER: b"webhook:https://partner.example.org/h"},
         "webhook:https://partner.example.org/h"),
    ],
)
def test_redrive_destination(headers: dict[str, bytes] | None, expected: str | None) -> None:
    assert redrive_destination(headers) == expected


class FlakySink:
    """Refuses while ``down`` is set, then accepts and counts."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.down = True
        self.accepted: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def min_interval_s(self) -> float:
        return 0.0

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt:
        if self.down:
            raise DeliveryError("HTTP 410 gone", retryable=False)
        self.accepted.append(alert.id)
        return Receipt(destination=self._name, status_code=204)

    async def aclose(self) -> None:
        return None


async def test_redrive_overrides_dead_once_and_never_posts_twice() -> None:
    sink = FlakySink("partner")
    subs = Subscriptions(destinations={"partner": ConsoleDestination(type="console")},
                         routes=(Route(name="all", to=("partner",)),))
    letters: list[DeadLetter] = []

    async def bury(letter: DeadLetter) -> None:
        letters.append(letter)

    store: dict[str, Any] = {}
    dispatcher = Dispatcher({"partner": sink}, Router(subs), store, bury, RetryPolicy())
    alert = _alert(7)

    first = await dispatcher.dispatch(alert)
    assert first.by_status("dead_lettered") == ["partner"]
    assert [letter.alert.id for letter in letters] == [alert.id]

    sink.down = False
    again = await dispatcher.dispatch(alert)  # a plain redelivery respects the dead mark
    assert again.by_status("skipped_dead") == ["partner"] and sink.accepted == []

    report = await submit_redrive(dispatcher, alert, "partner")
    assert report.alert_id == alert.id
    assert report.by_status("delivered") == ["partner"]
    assert sink.accepted == [alert.id]

    twice = await submit_redrive(dispatcher, alert, "partner")  # e.g. redrive run twice
    assert twice.by_status("duplicate") == ["partner"]
    assert sink.accepted == [alert.id]


def test_redrive_needs_a_selection() -> None:
    _register()
    result = CliRunner().invoke(app, ["dlq", "redrive"], env={"NEWSALERT_KAFKA_BOOTSTRAP": "x:1"})
    assert result.exit_code == 2
    assert "--all" in result.output
    both = CliRunner().invoke(app, ["dlq", "redrive", "--all", "--id", "a"],
                              env={"NEWSALERT_KAFKA_BOOTSTRAP": "x:1"})
    assert both.exit_code == 2


def test_list_shows_waiting_letters_as_a_table_and_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stream.cli.dlq as dlq_cli

    records = [_rec(0, _letter(1)), _rec(1, _letter(2, "desk")), _rec(2, _marker(1, up_to=0)),
               _rec(3, _letter(2, "desk"))]
    seen: list[tuple[str, str]] = []

    def fake_read(bootstrap: str, topic: str) -> list[DlqRecord]:
        seen.append((bootstrap, topic))
        return records

    monkeypatch.setattr(dlq_cli, "read_dlq", fake_read)
    _register()
    env = {"NEWSALERT_KAFKA_BOOTSTRAP": "kafka:9092", "NEWSALERT_ALERTS_TOPIC": "wire-alerts"}
    table = CliRunner().invoke(app, ["dlq", "list"], env={**env, "COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert seen == [("kafka:9092", "wire-alerts.dlq")]
    assert _alert(2).id in table.output and _alert(1).id not in table.output
    assert "retries_exhausted (x2)" in table.output

    as_json = CliRunner().invoke(app, ["dlq", "list", "--json"], env=env)
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [(r["alert_id"], r["destination"], r["letters"], r["offset"]) for r in rows] == [
        (_alert(2).id, "desk", 2, 3)
    ]
    assert rows[0]["alert"] == _alert(2).model_dump(mode="json")
