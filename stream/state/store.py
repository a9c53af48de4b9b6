"""Expiring entries over any string-keyed mapping.

The alert state must live in a Faust table in production (so a changelog topic makes it
durable) and in a plain ``dict`` in tests and dry-run replays. Both are a
``MutableMapping[str, Any]`` holding JSON values, so this wrapper is all the state code ever
sees. Each value is stored inside a small envelope, ``[expires, value]`` (a list: the
smallest JSON container, and there are hundreds of thousands of them), so reads ignore
expired entries at once (so correctness never waits for a sweep) and :meth:`TTLStore.sweep`
deletes them to keep memory flat.

Values are always written whole and never mutated in place: a Faust table only persists what
is assigned to it, and a plain dict must not see a caller's later edits.

A decision can also be *staged* (:meth:`TTLStore.stage`): its writes are held back, visible to
its own reads, and handed over as one ordered list, so the caller decides how they reach the
mapping (``journal.commit`` writes them so a crash half way through can be repaired).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, TypeGuard

__all__ = ["Clock", "Envelope", "JSONValue", "TTLStore", "epoch"]

JSONValue = Any
"""A value made of dicts, lists, str, int, float, bool and None only."""

Clock = Callable[[], datetime]

Envelope = list[Any]
"""``[expires, value]``: how every entry is stored."""


def epoch(moment: datetime) -> float:
    """Seconds since the Unix epoch; a naive datetime is read as UTC so callers cannot skew."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class TTLStore:
    """A view of ``mapping`` where every entry has an absolute expiry (epoch seconds)."""

    def __init__(self, mapping: MutableMapping[str, Any]) -> None:
        self._mapping = mapping
        self._staged: dict[str, Envelope] | None = None

    @property
    def mapping(self) -> MutableMapping[str, Any]:
        """The wrapped mapping, for callers that want to inspect or size it."""
        return self._mapping

    def get(self, key: str, now: float) -> JSONValue | None:
        """The live value at ``key``, or ``None`` when absent or expired at ``now``."""
        entry = self._entry(key)
        if not _is_envelope(entry) or entry[0] <= now:
            return None
        return entry[1]

    def put(self, key: str, value: JSONValue, expires: float) -> None:
        """Store ``value`` until ``expires``; the envelope is a fresh list every time."""
        envelope: Envelope = [float(expires), value]
        if self._staged is not None:
            self._staged[key] = envelope
        else:
            self._mapping[key] = envelope

    def expires(self, key: str) -> float | None:
        """When ``key`` expires, or ``None`` when it is absent; lets callers keep the later one."""
        entry = self._entry(key)
        return float(entry[0]) if _is_envelope(entry) else None

    def stage(self) -> None:
        """Hold back writes from now on; :meth:`staged` ends staging and returns them."""
        self._staged = {}

    def staged(self) -> list[tuple[str, Envelope]]:
        """The held-back writes (key, envelope), in the order of each key's first write."""
        writes, self._staged = self._staged or {}, None
        return list(writes.items())

    def _entry(self, key: str) -> Any:
        if self._staged is not None and key in self._staged:
            return self._staged[key]
        return self._mapping.get(key)

    def sweep(self, now: float, keys: Callable[[str], bool] | None = None) -> int:
        """Delete every entry of ours expired at ``now``; foreign values are left alone.

        ``keys`` narrows the sweep to the keys it accepts: a Faust table writes a deletion to
        the changelog partition of the event being processed, so a worker must only delete
        the keys that partition owns. Keys are listed first and deleted afterwards because
        a mapping (a Faust table included) must not change size while being iterated.
        """
        doomed = [
            key
            for key, entry in self._mapping.items()
            if _is_envelope(entry) and entry[0] <= now and (keys is None or keys(key))
        ]
        for key in doomed:
            del self._mapping[key]
        return len(doomed)


def _is_envelope(entry: Any) -> TypeGuard[list[Any]]:
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], int | float)
        and not isinstance(entry[0], bool)
    )
