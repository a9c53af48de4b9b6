"""Hot reload: the worker's current RuleSet, swapped atomically when rule files change.

A rule edit should be live in seconds without restarting the worker (a restart means a
consumer-group rebalance). An invalid edit must never take the desk blind: the new files are
rejected with the same file:line problems ``rules validate`` prints, logged, and the previous
rules stay live. ``last_reload`` and ``last_errors`` feed the health page.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from watchfiles import Change, awatch

from stream.engine import RuleSet, load_rules
from stream.errors import Problem, RuleError

__all__ = ["LiveRules", "ReloadCallback", "is_rule_file"]

log = logging.getLogger("newsalert.rules")

ReloadCallback = Callable[[RuleSet, list[Problem]], Awaitable[None] | None]


def is_rule_file(change: Change, path: str) -> bool:
    """Only YAML files matter; editor swap and backup files do not trigger a reload."""
    name = Path(path).name
    return name.endswith((".yml", ".yaml")) and not name.startswith((".", "#", "~"))


class LiveRules:
    """Holds the current rules; ``reload`` swaps them only when the new files are valid."""

    def __init__(self, paths: Sequence[Path], *, debounce_ms: int = 300) -> None:
        """Load ``paths`` now; raise :class:`RuleError` if the initial rules are invalid."""
        self.paths = tuple(Path(p) for p in paths)
        self.debounce_ms = debounce_ms
        self.last_reload: datetime | None = None
        self.last_attempt: datetime | None = None
        self.last_errors: tuple[Problem, ...] = ()
        self.reloads = 0
        self._ruleset: RuleSet | None = None
        problems = self.reload()
        if self._ruleset is None:
            raise RuleError(problems)

    @property
    def ruleset(self) -> RuleSet:
        """The rules currently live."""
        assert self._ruleset is not None
        return self._ruleset

    @property
    def version(self) -> str:
        """Content hash of the rule files currently live."""
        return self.ruleset.version

    def reload(self) -> list[Problem]:
        """Load the files again; on problems keep the current rules and return the problems."""
        self.last_attempt = datetime.now(UTC)
        try:
            fresh = load_rules(self.paths)
        except RuleError as exc:
            self.last_errors = exc.problems
            for problem in exc.problems:
                log.error("rule reload rejected: %s", problem)
            if self._ruleset is not None:
                log.warning("keeping rules version %s live", self._ruleset.version)
            return list(exc.problems)
        self.last_errors = ()
        previous = self._ruleset
        if previous is None or previous.version != fresh.version:
            self._ruleset = fresh
            self.reloads += 1
            self.last_reload = self.last_attempt
            log.info(
                "rules version %s live: %d rules from %d files",
                fresh.version, len(fresh.rules), len(fresh.files),
            )
        return []

    async def watch(
        self,
        callback: ReloadCallback | None = None,
        *,
        stop_event: asyncio.Event | None = None,
        ready: asyncio.Event | None = None,
    ) -> None:
        """Reload on every (debounced) change under ``paths`` until ``stop_event`` is set.

        Loading runs in a thread so the event loop keeps consuming while rules compile.
        ``callback(ruleset, problems)`` runs after each attempt (problems empty on success).
        ``ready`` is set once the file watcher is running, so callers can tell edits made
        from then on will be seen.
        """
        async for changes in awatch(
            *self.paths,
            watch_filter=is_rule_file,
            debounce=self.debounce_ms,
            step=50,
            stop_event=stop_event,
            rust_timeout=200,
            yield_on_timeout=True,
        ):
            if ready is not None:
                ready.set()
            if not changes:
                continue
            problems = await asyncio.to_thread(self.reload)
            if callback is not None:
                outcome = callback(self.ruleset, problems)
                if inspect.isawaitable(outcome):
                    await outcome
