"""The seam between dispatch and destinations.

A sink does one thing: try to hand one alert to one destination, once. It says whether a
failure is worth retrying by raising :class:`~stream.errors.DeliveryError` with ``retryable``;
retries, pacing, dead letters and idempotency are decided once, in :mod:`stream.delivery.dispatch`,
so no sink grows its own retry loop.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from stream.models import Alert

__all__ = ["Receipt", "Sink"]


class Receipt(BaseModel):
    """Proof that a destination accepted a message, and how to find that message again.

    Slack fills ``channel`` and ``ts`` so follow-ups can thread under the first message and
    ``chat.update`` its counter; ``replies`` counts follow-ups posted in that thread so far and
    ``parent`` keeps the first alert so the parent can be re-rendered with a new counter.
    Receipts are stored as JSON in the delivery ledger, so every field is JSON-able.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    destination: str
    channel: str | None = None
    ts: str | None = None
    status_code: int | None = None
    replies: int = Field(default=0, ge=0)
    parent: Alert | None = None


@runtime_checkable
class Sink(Protocol):
    """One destination. ``send`` delivers once or raises ``DeliveryError``.

    ``thread`` is the receipt of the first message of this alert's thread at this destination,
    or ``None`` when the alert starts a thread (or the sink does not thread).
    ``min_interval_s`` is the pacing dispatch keeps between two messages to this destination.
    """

    @property
    def name(self) -> str: ...

    @property
    def min_interval_s(self) -> float: ...

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt: ...

    async def aclose(self) -> None: ...
