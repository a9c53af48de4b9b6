"""Dispatch: retries, backoff, Retry-After, pacing, dead letters, ledger idempotency, threads,
and lane isolation. Time is simulated: the injected sleep advances the injected clock."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from stream.delivery.base import Receipt
from stream.delivery.dispatch import DeadLetter, Dispatcher, RetryPolicy
from stream.delivery.router import Router
from stream.delivery.subscriptions import ConsoleDestination, Route, Subscriptions
from stream.errors import ConfigError, DeliveryError
from stream.models import Alert

AlertFactory = Callable[..., Alert]


class SimClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


class ScriptedSink:
    """A destination whose answers are scripted: an exception to raise or None to accept."""

    def __init__(
        self,
        name: str,
        script: list[BaseException | None] | None = None,
        *,
        clock: SimClock,
        min_interval_s: float = 0.0,
        threads: bool = False,
    ) -> None:
        self._name = name
        self.script = list(script or [])
        self.clock = clock
        self._min_interval_s = min_interval_s
        self.threads = threads
        self.calls: list[tuple[str, Receipt | None, float]] = []
        self.gate: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def min_interval_s(self) -> float:
        return self._min_interval_s

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt:
        self.calls.append((alert.id, thread, self.clock.now))
        if self.gate is not None:
            await self.gate.wait()
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        ts = f"{len(self.calls)}.0" if self.threads else None
        return Receipt(destination=self._name, channel="C1" if self.threads else None, ts=ts)

    async def aclose(self) -> None:
        return None


def _router(*names: str) -> Router:
    dests: dict[str, Any] = {n: ConsoleDestination(type="console") for n in names}
    return Router(Subscriptions(destinations=dests, routes=(Route(to=names),)))


class Harness:
    def __init__(self, sinks: dict[str, ScriptedSink], clock: SimClock, **policy: Any) -> None:
        self.clock = clock
        self.sinks = sinks
        self.ledger: dict[str, Any] = {}
        self.dead: list[DeadLetter] = []
        self.dispatcher = Dispatcher(
            sinks,
            _router(*sinks),
            self.ledger,
            self._dead_letter,
            RetryPolicy(**policy),
            sleep=clock.sleep,
            clock=clock,
            wall=lambda: 1_777_000_000.0 + clock.now,
            rand=lambda: 0.5,
        )

    async def _dead_letter(self, letter: DeadLetter) -> None:
        self.dead.append(letter)


def _harness(*scripts: list[BaseException | None], **policy: Any) -> Harness:
    clock = SimClock()
    sinks = {f"d{i}": ScriptedSink(f"d{i}", s, clock=clock) for i, s in enumerate(scripts)}
    return Harness(sinks, clock, **policy)


def _retryable(**kw: Any) -> DeliveryError:
    return DeliveryError("boom", retryable=True, **kw)


async def test_retries_with_exponential_backoff_and_jitter(make_alert: AlertFactory) -> None:
    h = _harness([_retryable(), _retryable(), _retryable(), None], base_delay_s=1, jitter=0.5)
    report = await h.dispatcher.dispatch(make_alert())
    assert report.by_status("delivered") == ["d0"]
    assert report.outcomes[0].attempts == 4
    # rand=0.5 with jitter 0.5 gives 75 % of 1, 2, 4 seconds
    assert h.clock.sleeps == [0.75, 1.5, 3.0]


def test_backoff_is_capped_and_spread_by_jitter() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=5, jitter=1.0)
    assert [policy.backoff(n, 0.999999) for n in (1, 2, 3, 4, 5)] == pytest.approx(
        [1, 2, 4, 5, 5], rel=1e-5
    )
    assert policy.backoff(3, 0.0) == 0.0
    no_jitter = RetryPolicy(base_delay_s=0.5, jitter=0)
    assert no_jitter.backoff(2, 0.3) == 1.0


async def test_retry_after_is_honoured_and_not_counted_as_failure(
    make_alert: AlertFactory,
) -> None:
    limited = [_retryable(retry_after=3.0) for _ in range(5)]
    h = _harness([*limited, None], max_attempts=2)
    report = await h.dispatcher.dispatch(make_alert())
    assert report.by_status("delivered") == ["d0"]
    assert h.clock.sleeps == [3.0] * 5
    assert h.dead == []


@pytest.mark.parametrize(
    ("script", "policy", "reason", "attempts"),
    [
        ([DeliveryError("invalid_auth", retryable=False)], {}, "not_retryable", 1),
        ([ConfigError("private address")], {}, "not_retryable", 1),
        ([RuntimeError("sink bug")], {}, "not_retryable", 1),
        ([_retryable() for _ in range(9)], {"max_attempts": 3}, "retries_exhausted", 3),
        (
            [_retryable(retry_after=2.0) for _ in range(9)],
            {"rate_limit_attempts": 4},
            "retries_exhausted",
            5,
        ),
        (
            [_retryable() for _ in range(99)],
            {"budget_s": 5, "base_delay_s": 1},
            "retries_exhausted",
            3,
        ),
    ],
)
async def test_failures_end_as_dead_letters(
    make_alert: AlertFactory,
    script: list[BaseException | None],
    policy: dict[str, Any],
    reason: str,
    attempts: int,
) -> None:
    h = _harness(script, **policy)
    alert = make_alert()
    report = await h.dispatcher.dispatch(alert)
    assert report.by_status("dead_lettered") == ["d0"]
    [letter] = h.dead
    assert (letter.reason, letter.attempts, letter.destination) == (reason, attempts, "d0")
    assert letter.alert == alert
    assert letter.failed_at.year >= 2026
    assert h.ledger[f"{alert.id}|d0"]["status"] == "dead"
    # A redelivered alert does not dead-letter again; a redrive tries once more.
    again = await h.dispatcher.dispatch(alert)
    assert again.by_status("skipped_dead") == ["d0"]
    assert len(h.dead) == 1
    h.sinks["d0"].script = []
    outcome = await h.dispatcher.redrive(letter)
    assert outcome.status == "delivered"
    assert h.ledger[f"{alert.id}|d0"]["status"] == "delivered"


async def test_ledger_makes_redelivery_a_no_op(make_alert: AlertFactory) -> None:
    h = _harness([None])
    alert = make_alert()
    first = await h.dispatcher.dispatch(alert)
    second = await h.dispatcher.dispatch(alert)
    assert first.by_status("delivered") == ["d0"]
    assert second.by_status("duplicate") == ["d0"]
    assert len(h.sinks["d0"].calls) == 1
    # a fresh dispatcher over the same ledger (another worker after a rebalance) agrees
    clock = SimClock()
    sink = ScriptedSink("d0", clock=clock)
    other = Dispatcher({"d0": sink}, _router("d0"), h.ledger, h._dead_letter, sleep=clock.sleep)
    assert (await other.dispatch(alert)).by_status("duplicate") == ["d0"]
    assert sink.calls == []


async def test_unknown_destination_is_dead_lettered(make_alert: AlertFactory) -> None:
    h = _harness([None])
    h.dispatcher.router = _router("d0", "nowhere")
    report = await h.dispatcher.dispatch(make_alert())
    assert report.by_status("delivered") == ["d0"]
    assert [(d.destination, d.reason) for d in h.dead] == [("nowhere", "unknown_destination")]


async def test_pacing_spaces_messages_to_one_destination(make_alert: AlertFactory) -> None:
    clock = SimClock()
    sink = ScriptedSink("slack", clock=clock, min_interval_s=1.0)
    h = Harness({"slack": sink}, clock)
    for i in range(3):
        await h.dispatcher.dispatch(make_alert(article_id=f"a{i}", id=f"alrt_{i}"))
    times = [t for _, _, t in sink.calls]
    assert [b - a for a, b in itertools.pairwise(times)] == [1.0, 1.0]


async def test_follow_ups_thread_under_the_first_message(make_alert: AlertFactory) -> None:
    clock = SimClock()
    sink = ScriptedSink("slack", clock=clock, threads=True)
    h = Harness({"slack": sink}, clock)
    first = make_alert(id="alrt_first", thread_id="story-1")
    second = make_alert(id="alrt_second", thread_id="story-1", kind="escalation")
    third = make_alert(id="alrt_third", thread_id="story-1", kind="update")
    other = make_alert(id="alrt_other", thread_id="story-2", kind="update")
    for alert in (first, second, third, other):
        await h.dispatcher.dispatch(alert)
    threads = [(aid, t.ts if t else None, t.replies if t else None) for aid, t, _ in sink.calls]
    assert threads == [
        ("alrt_first", None, None),
        ("alrt_second", "1.0", 0),
        ("alrt_third", "1.0", 1),
        ("alrt_other", None, None),  # no parent known: starts its own thread
    ]
    assert h.ledger["thread|story-1|slack"]["replies"] == 2
    assert h.ledger["thread|story-2|slack"]["ts"] == "4.0"


async def test_slow_destination_does_not_block_others(make_alert: AlertFactory) -> None:
    clock = SimClock()
    slow = ScriptedSink("slow", clock=clock)
    fast = ScriptedSink("fast", clock=clock)
    slow.gate = asyncio.Event()
    h = Harness({"slow": slow, "fast": fast}, clock)
    alerts = [make_alert(id=f"alrt_{i}", article_id=f"a{i}") for i in range(5)]
    tasks = [await h.dispatcher.submit(a) for a in alerts]
    async with asyncio.timeout(5):
        while len(fast.calls) < 5:
            await asyncio.sleep(0)
    assert [c[0] for c in fast.calls] == [a.id for a in alerts]
    assert len(slow.calls) == 1 and not any(t.done() for t in tasks)
    slow.gate.set()
    async with asyncio.timeout(5):
        await h.dispatcher.drain()
    assert [c[0] for c in slow.calls] == [a.id for a in alerts]  # order kept per destination
    assert all(t.result().by_status("delivered") == ["slow", "fast"] for t in tasks)


async def test_submit_applies_backpressure(make_alert: AlertFactory) -> None:
    clock = SimClock()
    sink = ScriptedSink("d", clock=clock)
    sink.gate = asyncio.Event()
    h = Harness({"d": sink}, clock)
    h.dispatcher._max_pending = 2
    await h.dispatcher.submit(make_alert(id="alrt_1"))
    await h.dispatcher.submit(make_alert(id="alrt_2"))
    third = asyncio.create_task(h.dispatcher.submit(make_alert(id="alrt_3")))
    await asyncio.sleep(0)
    assert not third.done()
    sink.gate.set()
    async with asyncio.timeout(5):
        await third
        await h.dispatcher.drain()
    assert [c[0] for c in sink.calls] == ["alrt_1", "alrt_2", "alrt_3"]
