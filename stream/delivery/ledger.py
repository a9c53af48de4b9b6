"""The delivery ledger: what each destination already has, kept in a shared table.

Keys are ``<alert id>|<destination>`` (outcome of one delivery) and
``thread|<thread id>|<destination>`` (the receipt of a thread's first message). Values are
plain JSON so the mapping can be a Faust table backed by a changelog topic: a worker that takes
over a partition after a crash or rebalance sees what was delivered and does not post twice.
Values are always replaced, never mutated in place, because a table only persists assignments.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from stream.delivery.base import Receipt

__all__ = ["DeliveryLedger", "LedgerEntry"]


class LedgerEntry(BaseModel):
    """Outcome of delivering one alert to one destination."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: Literal["delivered", "dead"]
    attempts: int
    at: float
    receipt: Receipt | None = None
    error: str | None = None


class DeliveryLedger:
    """Typed view over an injected ``MutableMapping[str, Any]`` of JSON values."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store

    @staticmethod
    def key(alert_id: str, destination: str) -> str:
        return f"{alert_id}|{destination}"

    @staticmethod
    def thread_key(thread_id: str, destination: str) -> str:
        return f"thread|{thread_id}|{destination}"

    def get(self, alert_id: str, destination: str) -> LedgerEntry | None:
        raw = self.store.get(self.key(alert_id, destination))
        if raw is None:
            return None
        try:
            return LedgerEntry.model_validate(raw)
        except ValidationError:
            return None  # an unreadable entry must not block delivery forever

    def record(
        self,
        alert_id: str,
        destination: str,
        *,
        status: Literal["delivered", "dead"],
        attempts: int,
        at: float,
        receipt: Receipt | None = None,
        error: str | None = None,
    ) -> None:
        entry = LedgerEntry(status=status, attempts=attempts, at=at, receipt=receipt, error=error)
        self.store[self.key(alert_id, destination)] = entry.model_dump(
            mode="json", exclude_none=True, exclude={"receipt": {"parent"}}
        )

    def thread(self, thread_id: str, destination: str) -> Receipt | None:
        raw = self.store.get(self.thread_key(thread_id, destination))
        if raw is None:
            return None
        try:
            return Receipt.model_validate(raw)
        except ValidationError:
            return None

    def set_thread(self, thread_id: str, destination: str, receipt: Receipt) -> None:
        self.store[self.thread_key(thread_id, destination)] = receipt.model_dump(mode="json")

    def prune(self, older_than: float) -> int:
        """Forget delivery outcomes recorded before ``older_than``; returns how many.

        Thread receipts are kept: a story can get follow-ups long after its first alert.
        """
        stale = []
        for key, raw in list(self.store.items()):
            if key.startswith("thread|") or not isinstance(raw, dict):
                continue
            at = raw.get("at")
            if isinstance(at, int | float) and at < older_than:
                stale.append(key)
        for key in stale:
            del self.store[key]
        return len(stale)
