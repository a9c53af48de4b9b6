"""Bounded waiting on conditions: tests poll a predicate until it holds or a deadline passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_for", "wait_for_async"]

T = TypeVar("T")

_POLL_S = 0.05


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Return the first truthy value of ``predicate()``; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(_POLL_S)


async def wait_for_async(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """``wait_for`` for tests running inside an event loop (servers live on the same loop)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(_POLL_S)
