"""Types shared by the engine tests."""

from __future__ import annotations

from collections.abc import Callable

from stream.engine import RuleSet

__all__ = ["LoadText"]

LoadText = Callable[..., RuleSet]
