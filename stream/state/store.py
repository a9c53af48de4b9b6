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
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, TypeGuard

__all__ = ["Clock", "JSONValue", "TTLStore", "epoch"]

JSONValue = Any
"""A value made of dicts, lists, str, int, float, bool and None only."""

Clock = Callable[[], datetime]


def epoch(moment: datetime) -> float:
    """Seconds since the Unix epoch; a naive datetime is read as UTC so callers cannot skew."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class TTLStore:
    """A view of ``mapping`` where every entry has an absolute expiry (epoch seconds)."""

    def __init__(self, mapping: MutableMapping[str, Any]) -> None:
        self._mapping = mapping

    @property
    def mapping(self) -> MutableMapping[str, Any]:
        """The wrapped mapping, for callers that want to inspect or size it."""
        return self._mapping

    def get(self, key: str, now: float) -> JSONValue | None:
        """The live value at ``key``, or ``None`` when absent or expired at ``now``."""
        entry = self._mapping.get(key)
        if not _is_envelope(entry) or entry[0] <= now:
            return None
        return entry[1]

    def put(self, key: str, value: JSONValue, expires: float) -> None:
        """Store ``value`` until ``expires``; the envelope is a fresh list every time."""
        self._mapping[key] = [float(expires), value]

    def expires(self, key: str) -> float | None:
        """When ``key`` expires, or ``None`` when it is absent; lets callers keep the later one."""
        entry = self._mapping.get(key)
        return float(entry[0]) if _is_envelope(entry) else None

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
