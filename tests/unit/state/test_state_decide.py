"""AlertState.decide: idempotency, thresholds, dedup, updates, escalation and expiry."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from state_fixtures import (
    DAY,
    HOUR,
    LAB,
    PORT,
    SUMMIT,
    JSONMapping,
    article,
    at,
    copy_of,
    match,
)

from stream.models import Alert, Article, Match
from stream.state import AlertState, horizon, scope_key


def run(
    state: AlertState, items: list[tuple[float, Article]], rule: Match | None = None
) -> list[Alert]:
    """Feed (seconds after T0, article) pairs; return every alert in order."""
    rule = rule or match()
    alerts: list[Alert] = []
    for moment, item in items:
        alerts.extend(state.decide(rule, item, at(moment)))
    return alerts


def summit_copy(n: int, source: str) -> Article:
    return article(f"s{n}", copy_of(SUMMIT, source), source=source, url=f"https://{n}.example/a")


def test_first_match_alerts_with_story_fields() -> None:
    state = AlertState(JSONMapping())
    first = article("s0", SUMMIT, source="Wire")
    (alert,) = state.decide(match(), first, at(0))
    assert alert.kind == "new"
    assert alert.thread_id == alert.id
    assert alert.story_id is not None and alert.story_id.startswith("sty_")
    assert (alert.story_articles, alert.story_sources) == (1, 1)
    assert alert.created_at == at(0)


def test_redelivery_and_second_worker_repeat_the_alert_and_reposts_give_nothing() -> None:
    store = JSONMapping()
    first = article("s0", SUMMIT, source="Wire", url="https://wire.example/a")
    (alert,) = AlertState(store).decide(match(), first, at(0))
    assert AlertState(store).decide(match(), first, at(5)) == [alert]
    repost = article("s0-again", "re-sent", source="Wire", url="https://wire.example/a?ref=rss")
    assert AlertState(store).decide(match(), repost, at(10)) == []


def test_copies_update_only_when_a_new_outlet_reports() -> None:
    state = AlertState(JSONMapping())
    alerts = run(
        state,
        [
            (0, article("s0", SUMMIT, source="Wire")),
            (60, summit_copy(1, "Ledger")),
            (120, article("s2", copy_of(SUMMIT, "Ledger"), source="Ledger")),  # same outlet
            (180, summit_copy(3, "Courier")),
        ],
    )
    assert [(a.kind, a.story_articles, a.story_sources) for a in alerts] == [
        ("new", 1, 1),
        ("update", 2, 2),
        ("update", 4, 3),
    ]
    assert len({a.story_id for a in alerts}) == 1
    assert {a.thread_id for a in alerts} == {alerts[0].id}
    assert len({a.id for a in alerts}) == 3


WEEK = 7 * DAY


@pytest.mark.parametrize(
    ("times", "kinds"),
    [
        # three distinct outlets within the week: the third one fires
        ([0, DAY, 2 * DAY], ["-", "-", "new"]),
        # the first report left the window exactly when the third arrived: not yet
        ([0, DAY, WEEK], ["-", "-", "-"]),
        ([0, DAY, WEEK - 1], ["-", "-", "new"]),
        # a fourth outlet inside the window then fires
        ([0, DAY, WEEK, WEEK + 1], ["-", "-", "-", "new"]),
    ],
)
def test_threshold_counts_distinct_sources_in_the_window(
    times: list[float], kinds: list[str]
) -> None:
    state = AlertState({})
    rule = match(threshold=(3, WEEK), dedup_s=12 * HOUR)
    bodies = [SUMMIT, PORT, LAB, copy_of(PORT, "x")]
    got = []
    for n, moment in enumerate(times):
        item = article(f"a{n}", bodies[n], source=f"outlet-{n}")
        alerts = state.decide(rule, item, at(moment))
        got.append(alerts[0].kind if alerts else "-")
    assert got == kinds


def test_threshold_ignores_repeat_outlets_and_names_the_firing_story() -> None:
    state = AlertState({})
    rule = match(threshold=(2, DAY))
    alerts = run(
        state,
        [
            (0, article("a", SUMMIT, source="Ledger")),
            (10, article("b", PORT, source="Ledger")),
            (20, article("c", LAB, source="Courier")),
        ],
        rule,
    )
    (alert,) = alerts
    assert alert.article.id == "c"
    assert (alert.story_articles, alert.story_sources) == (1, 1)


@pytest.mark.parametrize(
    ("second_at", "kind"),
    [(HOUR, None), (6 * HOUR - 1, None), (6 * HOUR, "new"), (9 * HOUR, "new")],
)
def test_dedup_window_holds_back_other_stories(second_at: float, kind: str | None) -> None:
    state = AlertState({})
    first = state.decide(match(), article("a", SUMMIT, source="Wire"), at(0))
    second = state.decide(match(), article("b", PORT, source="Ledger"), at(second_at))
    assert [a.kind for a in second] == ([kind] if kind else [])
    if second:
        assert second[0].thread_id != first[0].thread_id


def test_folded_story_never_alerts_later() -> None:
    state = AlertState({})
    alerts = run(
        state,
        [
            (0, article("a", SUMMIT, source="Wire")),
            (HOUR, article("b", PORT, source="Ledger")),  # folded into the open thread
            (8 * HOUR, article("c", copy_of(PORT, "Courier"), source="Courier")),
        ],
    )
    assert [a.kind for a in alerts] == ["new"]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (2, [("new", "medium")]),
        (3, [("new", "medium"), ("escalation", "high")]),
        (4, [("new", "medium"), ("escalation", "high"), ("update", "high")]),
        (
            6,
            [
                ("new", "medium"),
                ("escalation", "high"),
                ("update", "high"),
                ("escalation", "critical"),
                ("update", "critical"),
            ],
        ),
    ],
)
def test_escalation_once_per_tier_in_the_same_thread(
    sources: int, expected: list[tuple[str, str]]
) -> None:
    state = AlertState({})
    rule = match(threshold=(2, DAY), escalate=((3, "high"), (5, "critical")))
    alerts = run(state, [(n, summit_copy(n, f"outlet-{n}")) for n in range(sources)], rule)
    assert [(a.kind, a.severity) for a in alerts] == expected
    assert {a.thread_id for a in alerts} == {alerts[0].id}


def test_tiers_reached_at_opening_raise_the_first_alert() -> None:
    state = AlertState({})
    rule = match(threshold=(3, DAY), escalate=((2, "high"), (3, "critical"), (4, "low")))
    alerts = run(state, [(n, summit_copy(n, f"o{n}")) for n in range(4)], rule)
    assert [(a.kind, a.severity) for a in alerts] == [("new", "critical"), ("update", "critical")]


def test_other_stories_count_toward_escalation() -> None:
    state = AlertState({})
    rule = match(escalate=((2, "high"),))
    alerts = run(
        state,
        [(0, article("a", SUMMIT, source="Wire")), (60, article("b", PORT, source="Ledger"))],
        rule,
    )
    assert [(a.kind, a.severity, a.article.id) for a in alerts] == [
        ("new", "medium", "a"),
        ("escalation", "high", "b"),
    ]
    assert alerts[1].thread_id == alerts[0].id


def test_rules_and_entities_are_separate_scopes() -> None:
    state = AlertState({})
    item = article("a", SUMMIT, source="Wire")
    kinds = [
        [a.kind for a in state.decide(rule, item, at(0))]
        for rule in (match(), match(rule_id="departure-risk"), match(entity="georgia"))
    ]
    assert kinds == [["new"], ["new"], ["new"]]
    assert scope_key("r", None) == scope_key("r", "")
    assert scope_key("r", "a") != scope_key("r", "b")


def test_story_already_alerted_never_alerts_new_again() -> None:
    state = AlertState({})
    alerts = run(
        state,
        [(0, article("a", SUMMIT, source="Wire")), (10 * HOUR, summit_copy(1, "Ledger"))],
    )
    assert [a.kind for a in alerts] == ["new", "update"]


def test_everything_expires_after_the_horizon() -> None:
    raw = JSONMapping()
    clock_at = [at(0)]
    state = AlertState(raw, clock=lambda: clock_at[0])
    rule = match(threshold=(2, DAY), dedup_s=6 * HOUR, escalate=((3, "high"),))
    assert horizon(rule.policy) == DAY
    for n in range(4):
        state.decide(rule, summit_copy(n, f"o{n}"))
    state.decide(rule, article("p", PORT, source="x"))
    assert len(raw) > 0
    last = 4.0  # seconds after T0 of the last decision, all made at the clock's time
    before = len(raw)
    clock_at[0] = at(DAY - 1)
    assert state.sweep() == 0
    clock_at[0] = at(DAY + last)
    swept = state.sweep()
    assert 0 < swept < before  # the window and the thread are gone, the stories stay
    clock_at[0] = at(2 * DAY + last)
    assert state.sweep() == before - swept
    assert len(raw) == 0


def test_memory_stays_flat_under_a_long_stream() -> None:
    raw: dict[str, object] = {}
    state = AlertState(raw, story_memory_s=HOUR)
    rule = match(dedup_s=HOUR)
    sizes = []
    for n in range(600):  # ten hours, one article a minute, each its own story
        body = " ".join(f"w{n}x{k}" for k in range(40))
        state.decide(rule, article(f"n{n}", body, source=f"o{n % 7}"), at(n * 60))
        if n % 60 == 59:
            state.sweep(at(n * 60))
            sizes.append(len(raw))
    assert max(sizes[1:]) <= sizes[0] * 1.2
    json.dumps(raw)


def test_naive_now_is_utc_and_clock_is_used() -> None:
    naive = datetime(2026, 3, 2, 9, 0)
    state = AlertState({}, clock=lambda: naive)
    (alert,) = state.decide(match(), article("a", SUMMIT))
    assert alert.created_at == naive


def test_sweep_can_be_limited_to_some_scopes() -> None:
    raw: dict[str, object] = {}
    state = AlertState(raw, story_memory_s=HOUR)
    mine, theirs = match(dedup_s=HOUR), match(entity="georgia", dedup_s=HOUR)
    state.decide(mine, article("a", SUMMIT, source="Wire"), at(0))
    state.decide(theirs, article("a", SUMMIT, source="Wire"), at(0))
    owned = scope_key(mine.rule_id, mine.entity)
    assert state.sweep(at(HOUR), scopes=lambda scope: scope == owned) > 0
    assert raw and all(key.startswith(scope_key("summit-absence", "georgia")) for key in raw)
    assert state.sweep(at(HOUR)) > 0
    assert raw == {}


SEED = Path(__file__).resolve().parents[3] / ".." / "shared" / "seeds"


def test_seed_article_alerts_on_its_own_without_a_threshold() -> None:
    path = SEED / "kremlin-regrets-armenia-absence.json"
    if not path.exists():
        pytest.skip(f"seed article not found at {path}")
    seed = Article.model_validate_json(path.read_text())
    state = AlertState({})
    (alert,) = state.decide(match(), seed, at(0))
    assert (alert.kind, alert.story_articles, alert.story_sources) == ("new", 1, 1)
    assert state.decide(match(), seed, at(60)) == [alert]  # redelivered: the same alert
