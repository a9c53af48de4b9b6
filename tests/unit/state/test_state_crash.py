"""The crash window: a worker dies while (or after) a decision is written, the match comes again.

A crash is simulated by a store that refuses every write after a budget, the way a killed
worker's changelog keeps only a prefix of what it was sending. The restarted worker is a new
``AlertState`` over what survived, fed the uncommitted matches again. Whatever the crash
point, the alerts that come out (before and after the crash, duplicates included) must be
exactly the crash-free run's alerts: none lost, none new, and one content per alert id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_fixtures import DAY, HOUR, LAB, PORT, SUMMIT, JSONMapping, article, at, copy_of, match

from stream.models import Alert, Article, Match
from stream.state import AlertState
from stream.state.journal import JOURNAL_KEY, commit, repair
from stream.state.store import TTLStore


class Crash(Exception):
    """The worker died here."""


class CrashingMapping(JSONMapping):
    """Counts writes; once ``budget`` writes went through, the next one kills the worker."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.budget: int | None = None

    def __setitem__(self, key: str, value: object) -> None:
        if self.budget is not None and self.writes >= self.budget:
            raise Crash(key)
        self.writes += 1
        super().__setitem__(key, value)


Step = tuple[float, Article]
Writes = list[tuple[str, list[Any]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: Match
    steps: list[Step]


def _copy(n: int, outlet: str, text: str = SUMMIT, moment: float = 0.0) -> Step:
    body = copy_of(text, outlet)
    return moment, article(f"{outlet}-{n}", body, source=outlet, url=f"https://{outlet}.ex/{n}")


SCENARIOS = [
    Scenario(
        "threshold reached by the third outlet",
        match(threshold=(3, 7 * DAY), dedup_s=12 * HOUR),
        [_copy(1, "ledger"), _copy(2, "courier", moment=HOUR),
         _copy(3, "herald", moment=2 * HOUR), _copy(4, "gazette", moment=3 * HOUR)],
    ),
    Scenario(
        "escalation tiers over one story",
        match(escalate=((2, "high"), (3, "critical"))),
        [_copy(n, outlet, moment=60.0 * n)
         for n, outlet in enumerate(["wire", "ledger", "courier", "herald"])],
    ),
    Scenario(
        "other stories fold into the open thread, then a new one after dedup",
        match(dedup_s=6 * HOUR),
        [_copy(1, "wire"), _copy(2, "ledger", PORT, HOUR), _copy(3, "courier", LAB, 7 * HOUR),
         _copy(4, "herald", LAB, 8 * HOUR)],
    ),
]


def clean_run(scenario: Scenario) -> tuple[list[list[Alert]], list[int]]:
    """Alerts per step without a crash, and how many writes each step made."""
    store = CrashingMapping()
    state = AlertState(store)
    alerts, writes = [], []
    for moment, item in scenario.steps:
        before = store.writes
        alerts.append(state.decide(scenario.rule, item, at(moment)))
        writes.append(store.writes - before)
    return alerts, writes


def crashed_run(scenario: Scenario, step: int, budget: int, resume: int) -> list[Alert]:
    """Crash after ``budget`` writes of ``step``; a new worker goes on from ``resume``."""
    store = CrashingMapping()
    state = AlertState(store)
    emitted: list[Alert] = []
    for moment, item in scenario.steps[:step]:
        emitted.extend(state.decide(scenario.rule, item, at(moment)))
    moment, item = scenario.steps[step]
    store.budget = store.writes + budget
    with pytest.raises(Crash):
        state.decide(scenario.rule, item, at(moment))
    store.budget = None
    restarted = AlertState(store)
    for moment, item in scenario.steps[resume:]:
        emitted.extend(restarted.decide(scenario.rule, item, at(moment)))
    return emitted


def assert_same_alerts(emitted: list[Alert], clean: list[list[Alert]]) -> None:
    expected = {alert.id: alert for alerts in clean for alert in alerts}
    by_id: dict[str, Alert] = {}
    for alert in emitted:
        assert by_id.setdefault(alert.id, alert) == alert, "one alert id, two contents"
    assert by_id == expected


CASES = [
    pytest.param(scenario, step, budget, resume, id=f"{scenario.name}-{step}-{budget}-{resume}")
    for scenario in SCENARIOS
    for step, writes in enumerate(clean_run(scenario)[1])
    for budget in range(writes)
    for resume in sorted({0, step})
]


@pytest.mark.parametrize(("scenario", "step", "budget", "resume"), CASES)
def test_a_crash_at_any_write_neither_loses_nor_adds_alerts(
    scenario: Scenario, step: int, budget: int, resume: int
) -> None:
    clean, _ = clean_run(scenario)
    assert_same_alerts(crashed_run(scenario, step, budget, resume), clean)


def test_the_cases_cover_every_alerting_step() -> None:
    for scenario in SCENARIOS:
        clean, writes = clean_run(scenario)
        assert any(clean), scenario.name
        assert all(w > 1 for w in writes), "each first decision writes several keys"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_redelivering_a_whole_batch_repeats_its_alerts_unchanged(scenario: Scenario) -> None:
    store = JSONMapping()
    clean = [
        AlertState(store).decide(scenario.rule, item, at(moment))
        for moment, item in scenario.steps
    ]
    later = [
        AlertState(store).decide(scenario.rule, item, at(moment + DAY))
        for moment, item in scenario.steps
    ]
    assert later == clean
    assert any(later)


def test_a_repeated_alert_keeps_its_first_timestamp_and_writes_nothing() -> None:
    store = CrashingMapping()
    item = article("a", SUMMIT, source="wire")
    (first,) = AlertState(store).decide(match(), item, at(0))
    writes = store.writes
    (again,) = AlertState(store).decide(match(), item, at(HOUR))
    assert again == first and again.created_at == at(0)
    assert store.writes == writes


def test_the_repeated_alert_expires_with_the_story() -> None:
    state = AlertState(JSONMapping(), story_memory_s=DAY)
    item = article("a", SUMMIT, source="wire")
    (first,) = state.decide(match(), item, at(0))
    assert state.decide(match(), item, at(DAY - 1)) == [first]
    # forgotten with its story: the article is new again, and its alert too
    (fresh,) = state.decide(match(), item, at(DAY))
    assert fresh.id == first.id and fresh.created_at == at(DAY)


def test_commit_writes_the_journal_first_and_the_marker_last() -> None:
    order: list[str] = []

    class Recording(JSONMapping):
        def __setitem__(self, key: str, value: object) -> None:
            order.append(key)
            super().__setitem__(key, value)

    store = TTLStore(Recording())
    writes: Writes = [("s:m", [9.0, "marker"]), ("s:a", [9.0, 1]), ("s:b", [9.0, 2])]
    commit(store, "s:", writes, "s:m", expires=9.0)
    assert order == [f"s:{JOURNAL_KEY}", "s:a", "s:b", "s:m"]
    assert repair(store, "s:", now=1.0) == 0


@pytest.mark.parametrize(
    ("survived", "rewritten"),
    [
        (0, 3),  # only the journal reached the store
        (1, 3),
        (2, 3),  # everything but the marker
        (3, 0),  # complete: nothing to do
    ],
)
def test_repair_finishes_a_cut_commit(survived: int, rewritten: int) -> None:
    raw = CrashingMapping()
    store = TTLStore(raw)
    writes: Writes = [("s:a", [9.0, 1]), ("s:b", [9.0, {"x": [1, 2]}]), ("s:m", [9.0, "marker"])]
    raw.budget = 1 + survived
    if survived < len(writes):
        with pytest.raises(Crash):
            commit(store, "s:", writes, "s:m", expires=9.0)
    else:
        commit(store, "s:", writes, "s:m", expires=9.0)
    raw.budget = None
    assert repair(store, "s:", now=1.0) == rewritten
    assert {key: raw[key] for key, _ in writes} == dict(writes)
    assert repair(store, "s:", now=1.0) == 0


def test_an_expired_journal_is_never_replayed() -> None:
    raw = CrashingMapping()
    store = TTLStore(raw)
    raw.budget = 1
    writes: Writes = [("s:a", [5.0, 1]), ("s:m", [5.0, 2])]
    with pytest.raises(Crash):
        commit(store, "s:", writes, "s:m", expires=5.0)
    raw.budget = None
    assert repair(store, "s:", now=5.0) == 0
    assert "s:a" not in raw


def test_a_single_write_needs_no_journal() -> None:
    raw = JSONMapping()
    writes: Writes = [("s:m", [5.0, 2])]
    commit(TTLStore(raw), "s:", writes, "s:m", expires=5.0)
    assert list(raw) == ["s:m"]


OUTLETS = ["ledger", "courier", "herald", "wire", "gazette"]


@settings(max_examples=80, deadline=None)
@given(
    outlets=st.lists(st.sampled_from(OUTLETS), min_size=1, max_size=7),
    needed=st.integers(1, 3),
    tiers=st.sampled_from([(), ((3, "high"),), ((2, "high"), (4, "critical"))]),
    data=st.data(),
)
def test_property_crash_anywhere_then_redeliver(
    outlets: list[str],
    needed: int,
    tiers: tuple[tuple[int, str], ...],
    data: st.DataObject,
) -> None:
    """Random copies, a crash at a random write of a random step, redelivery from any
    earlier committed offset: the same alerts as without the crash."""
    rule = match(threshold=(needed, DAY) if needed > 1 else None, escalate=tiers)
    steps = [_copy(n, outlet, moment=600.0 * n) for n, outlet in enumerate(outlets)]
    scenario = Scenario("property", rule, steps)
    clean, writes = clean_run(scenario)
    step = data.draw(st.integers(0, len(steps) - 1), label="crash step")
    if writes[step] == 0:
        return  # a repost writes nothing: there is no crash point in it
    budget = data.draw(st.integers(0, writes[step] - 1), label="writes that survived")
    resume = data.draw(st.integers(0, step), label="redelivered from")
    assert_same_alerts(crashed_run(scenario, step, budget, resume), clean)
