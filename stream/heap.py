"""Keeping the garbage collector's full passes short in a long-running worker.

A started worker holds about 180,000 objects that live as long as it does: modules, Faust's
services, pydantic schemas, the compiled rules. CPython's full collection walks all of them.
While the worker reads a backlog, each fetched batch of records is alive for a whole batch,
so it outlives the young collections and is promoted; a full collection follows every few
seconds, and each took about 100 ms, about 4% of the worker's time.

Once the worker has started, :func:`settle` collects what start-up left behind and moves
everything still alive to the permanent generation (``gc.freeze``), which full collections
skip: they then walk only what was created since, and take about 2 ms.

Frozen objects are still freed by reference counting when nothing refers to them; what the
collector would have had to find is a frozen object that becomes garbage inside a reference
cycle (a connection replaced after a broker restart, say). :func:`keep_settled` therefore
thaws, collects and freezes again every hour, which bounds that to an hour's worth. The
structure replaced most often, a reloaded rule set, has no cycle and is freed at once (the
tests check it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

__all__ = ["keep_settled", "settle"]

log = logging.getLogger("newsalert")

SETTLE_EVERY_S = 3600.0


def settle() -> int:
    """Collect everything, frozen or not, then freeze what is alive; returns how many."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def keep_settled(stop: asyncio.Event, every_s: float = SETTLE_EVERY_S) -> None:
    """Settle now and then every ``every_s`` seconds, until ``stop`` is set."""
    while not stop.is_set():
        log.debug("%d objects set aside from full collections", settle())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
