"""Make one decision's writes all-or-nothing on a store that can only write keys one by one.

A decision writes a dozen or more keys of its scope (story index, story, window, thread, the
alert it emitted). A worker can die after some of them reached the table's changelog and
before the rest did; the redelivered match would then meet a half-updated scope, where the
article may look seen, the thread may look open and the alert would never be emitted.

So a decision is staged and committed as a small redo log:

1. the journal entry ``<scope>:j`` first, holding every write of the decision;
2. the writes themselves, with the *commit marker* (the article's ``d:`` entry, which also
   makes the article "seen") last.

aiokafka has one request per broker in flight, so a producer's writes to one partition stay
in order, and all keys of a scope share the changelog partition of the match that wrote
them: what survives a crash is a prefix of that sequence. Before the next decision in the
scope (the redelivered match, or any later one), :func:`repair` compares the marker with the
journal and, when the marker is missing or differs, writes the journal's entries again.
Rewriting an entry with the value it was meant to have is harmless, so repairing twice is
the same as repairing once.
"""

from __future__ import annotations

from typing import Any

from stream.state.store import Envelope, TTLStore

__all__ = ["JOURNAL_KEY", "commit", "repair"]

JOURNAL_KEY = "j"
"""Key of a scope's journal, after ``<scope>:``."""


def commit(
    store: TTLStore, scope: str, writes: list[tuple[str, Envelope]], marker: str, expires: float
) -> None:
    """Write ``writes`` so that a crash at any point can be repaired from the journal.

    ``marker`` is the key written last (it must be among ``writes`` to be moved to the end);
    a single write is atomic on its own and skips the journal.
    """
    ordered = [w for w in writes if w[0] != marker] + [w for w in writes if w[0] == marker]
    if len(ordered) > 1:
        store.put(f"{scope}{JOURNAL_KEY}", [[key, envelope] for key, envelope in ordered], expires)
    for key, envelope in ordered:
        store.mapping[key] = envelope


def repair(store: TTLStore, scope: str, now: float) -> int:
    """Finish the scope's last decision if a crash cut it short; returns the entries rewritten."""
    journal = store.get(f"{scope}{JOURNAL_KEY}", now)
    if not _is_log(journal) or not journal:
        return 0
    marker, envelope = journal[-1]
    if store.mapping.get(marker) == envelope:
        return 0
    for key, value in journal:
        store.mapping[key] = value
    return len(journal)


def _is_log(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in value
    )
