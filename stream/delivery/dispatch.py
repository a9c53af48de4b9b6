"""Dispatch: the one place that retries, paces, deduplicates and dead-letters deliveries.

Every destination has its own lane: a FIFO lock (so messages reach a channel in the order
alerts were dispatched) and a pacing clock (Slack takes about one message per second per
channel; a 429's ``Retry-After`` pushes the lane's clock further). Lanes never wait on each
other, so one slow or failing destination holds up only itself. Sleeping and time go through
injected callables, so tests of backoff, pacing and budgets are instant and exact.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from stream.delivery.base import Receipt, Sink
from stream.delivery.ledger import DeliveryLedger
from stream.delivery.router import Router
from stream.errors import ConfigError, DeliveryError
from stream.models import Alert
from stream.settings import Settings

__all__ = [
    "DeadLetter",
    "DispatchReport",
    "Dispatcher",
    "Outcome",
    "RetryPolicy",
]

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "newsalert_deliveries_total",
    "Deliveries by destination and outcome.",
    ["destination", "outcome"],
)
ATTEMPTS = Counter(
    "newsalert_delivery_attempts_total",
    "Send attempts by destination and result.",
    ["destination", "result"],
)

THREADED_KINDS = frozenset({"escalation", "update"})


class RetryPolicy(BaseModel):
    """How hard dispatch tries before dead-lettering.

    Failures (timeouts, 5xx) count against ``max_attempts`` with exponential backoff and
    jitter; rate limits that say when to come back (429 + Retry-After) count against the
    separate, larger ``rate_limit_attempts``, because waiting as told is not a failure.
    ``budget_s`` caps the whole effort for one alert at one destination.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1)
    base_delay_s: float = Field(default=0.5, gt=0)
    max_delay_s: float = Field(default=30.0, gt=0)
    jitter: float = Field(default=0.5, ge=0, le=1)
    budget_s: float = Field(default=300.0, gt=0)
    rate_limit_attempts: int = Field(default=30, ge=0)

    def backoff(self, failures: int, rand: float) -> float:
        """Delay after the ``failures``-th failure; ``rand`` in [0, 1) spreads retries out."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failures - 1))
        return delay * (1 - self.jitter) + delay * self.jitter * rand

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            base_delay_s=settings.delivery_backoff_s,
            max_delay_s=settings.delivery_backoff_max_s,
            budget_s=settings.delivery_budget_s,
        )


class DeadLetter(BaseModel):
    """An alert one destination did not take, with why; what ``alerts.dlq`` carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert: Alert
    destination: str
    reason: Literal["not_retryable", "retries_exhausted", "unknown_destination"]
    attempts: int
    last_error: str
    failed_at: datetime


class Outcome(BaseModel):
    """What happened at one destination."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    destination: str
    status: Literal["delivered", "duplicate", "dead_lettered", "skipped_dead"]
    attempts: int = 0
    receipt: Receipt | None = None
    error: str | None = None


class DispatchReport(BaseModel):
    """Per-destination outcomes of one alert."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    outcomes: tuple[Outcome, ...] = ()

    def by_status(self, status: str) -> list[str]:
        return [o.destination for o in self.outcomes if o.status == status]


@dataclass(slots=True)
class _Lane:
    lock: asyncio.Lock
    next_at: float = 0.0


DeadLetterCallback = Callable[[DeadLetter], Awaitable[None]]


class Dispatcher:
    """Routes an alert and delivers it to each destination at most once, retrying as needed."""

    def __init__(
        self,
        sinks: Mapping[str, Sink],
        router: Router,
        ledger: DeliveryLedger | Any,
        dead_letter: DeadLetterCallback,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        max_pending: int = 1000,
    ) -> None:
        self.sinks = sinks
        self.router = router
        self.ledger = ledger if isinstance(ledger, DeliveryLedger) else DeliveryLedger(ledger)
        self._dead_letter = dead_letter
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._wall = wall
        self._rand = rand
        self._lanes: dict[str, _Lane] = {}
        self._pending: set[asyncio.Task[DispatchReport]] = set()
        self._max_pending = max_pending

    def _lane(self, destination: str) -> _Lane:
        lane = self._lanes.get(destination)
        if lane is None:
            lane = self._lanes[destination] = _Lane(asyncio.Lock())
        return lane

    async def dispatch(self, alert: Alert) -> DispatchReport:
        """Deliver ``alert`` to every routed destination, concurrently; wait for all of them."""
        destinations = self.router.route(alert)
        outcomes = await asyncio.gather(*(self.deliver(alert, d) for d in destinations))
        return DispatchReport(alert_id=alert.id, outcomes=tuple(outcomes))

    async def submit(self, alert: Alert) -> asyncio.Task[DispatchReport]:
        """Start dispatching ``alert`` without waiting for slow destinations.

        Per-destination order still follows submission order. Waits only when ``max_pending``
        alerts are in flight (backpressure). Acknowledge the source message when the returned
        task is done to keep at-least-once delivery.
        """
        while len(self._pending) >= self._max_pending:
            await asyncio.wait(set(self._pending), return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(self.dispatch(alert), name=f"dispatch {alert.id}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def drain(self) -> None:
        """Wait for every submitted alert to finish (on shutdown)."""
        while self._pending:
            await asyncio.gather(*set(self._pending), return_exceptions=True)

    async def redrive(self, dead: DeadLetter) -> Outcome:
        """Send a dead-lettered alert to its destination again, once the cause is fixed."""
        return await self.deliver(dead.alert, dead.destination, redrive=True)

    async def deliver(self, alert: Alert, destination: str, *, redrive: bool = False) -> Outcome:
        """Deliver to one destination, in that destination's lane."""
        lane = self._lane(destination)
        async with lane.lock:
            return await self._deliver_locked(alert, destination, lane, redrive=redrive)

    async def _deliver_locked(
        self, alert: Alert, destination: str, lane: _Lane, *, redrive: bool
    ) -> Outcome:
        done = self.ledger.get(alert.id, destination)
        if done is not None and done.status == "delivered":
            DELIVERIES.labels(destination, "duplicate").inc()
            return Outcome(
                destination=destination, status="duplicate", attempts=0, receipt=done.receipt
            )
        if done is not None and done.status == "dead" and not redrive:
            return Outcome(destination=destination, status="skipped_dead", error=done.error)
        try:
            sink = self.sinks[destination]
        except (KeyError, ConfigError) as exc:
            reason = f"no usable destination {destination!r}: {exc}"
            return await self._bury(alert, destination, "unknown_destination", 0, reason)

        thread_id = alert.thread_id or alert.id
        thread = (
            self.ledger.thread(thread_id, destination) if alert.kind in THREADED_KINDS else None
        )
        started = self._clock()
        attempts = failures = limited = 0
        error: DeliveryError
        while True:
            wait = lane.next_at - self._clock()
            if wait > 0:
                await self._sleep(wait)
            attempts += 1
            try:
                receipt = await sink.send(alert, thread)
            except DeliveryError as exc:
                error = exc
            except ConfigError as exc:
                error = DeliveryError(str(exc), retryable=False)
            except Exception as exc:  # a sink bug must dead-letter, not kill the worker
                log.exception("sink %s raised unexpectedly", destination)
                error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=False)
            else:
                lane.next_at = self._clock() + sink.min_interval_s
                ATTEMPTS.labels(destination, "ok").inc()
                self._remember(alert, destination, thread_id, thread, receipt, attempts)
                DELIVERIES.labels(destination, "delivered").inc()
                return Outcome(
                    destination=destination, status="delivered", attempts=attempts, receipt=receipt
                )
            now = self._clock()
            lane.next_at = now + sink.min_interval_s
            ATTEMPTS.labels(destination, "retryable" if error.retryable else "final").inc()
            if not error.retryable:
                return await self._bury(alert, destination, "not_retryable", attempts, str(error))
            if error.retry_after is not None:
                limited += 1
                exhausted = limited > self.policy.rate_limit_attempts
                delay = error.retry_after
            else:
                failures += 1
                exhausted = failures >= self.policy.max_attempts
                delay = self.policy.backoff(failures, self._rand())
            if exhausted or now + delay - started > self.policy.budget_s:
                return await self._bury(
                    alert, destination, "retries_exhausted", attempts, str(error)
                )
            log.info("retrying %s to %s in %.2fs: %s", alert.id, destination, delay, error)
            lane.next_at = max(lane.next_at, now + delay)

    def _remember(
        self,
        alert: Alert,
        destination: str,
        thread_id: str,
        thread: Receipt | None,
        receipt: Receipt,
        attempts: int,
    ) -> None:
        self.ledger.record(
            alert.id,
            destination,
            status="delivered",
            attempts=attempts,
            at=self._wall(),
            receipt=receipt,
        )
        if thread is not None:
            self.ledger.set_thread(
                thread_id, destination, thread.model_copy(update={"replies": thread.replies + 1})
            )
        elif receipt.ts is not None and self.ledger.thread(thread_id, destination) is None:
            self.ledger.set_thread(thread_id, destination, receipt)

    async def _bury(
        self,
        alert: Alert,
        destination: str,
        reason: Literal["not_retryable", "retries_exhausted", "unknown_destination"],
        attempts: int,
        error: str,
    ) -> Outcome:
        wall = self._wall()
        letter = DeadLetter(
            alert=alert,
            destination=destination,
            reason=reason,
            attempts=attempts,
            last_error=error,
            failed_at=datetime.fromtimestamp(wall, UTC),
        )
        log.warning("dead-lettering %s for %s (%s): %s", alert.id, destination, reason, error)
        await self._dead_letter(letter)
        # Recorded after the dead letter is safely handed over, so a crash in between retries.
        self.ledger.record(
            alert.id, destination, status="dead", attempts=attempts, at=wall, error=error
        )
        DELIVERIES.labels(destination, "dead_lettered").inc()
        return Outcome(
            destination=destination, status="dead_lettered", attempts=attempts, error=error
        )
