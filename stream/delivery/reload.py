"""Hot reload of the subscriptions file: edit it, and routing follows without a restart.

A broken edit is reported and ignored, so a typo never silences alerts: the last good
subscriptions stay in force until the file is valid again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from stream.delivery.router import Router, SinkSet, merge_shorthand
from stream.delivery.subscriptions import load_subscriptions
from stream.errors import ConfigError
from stream.settings import Settings

__all__ = ["only", "reload_subscriptions", "watch_subscriptions"]

log = logging.getLogger(__name__)


async def reload_subscriptions(
    path: Path, settings: Settings, router: Router, sinks: SinkSet
) -> bool:
    """Re-read ``path`` into ``router`` and ``sinks``; False (and a log line) if it is invalid."""
    try:
        subs = merge_shorthand(load_subscriptions(path), settings)
        probe = SinkSet(settings, subs)  # builds every sink: bad secrets fail here, not later
    except ConfigError as exc:
        log.error("subscriptions not reloaded, keeping the previous ones:\n%s", exc)
        return False
    await probe.aclose()
    router.reload(subs)
    for stale in sinks.update(subs):
        await stale.aclose()
    log.info("subscriptions reloaded from %s", path)
    return True


def only(target: Path) -> Callable[[Change, str], bool]:
    """A watch filter for one file: anything else written in its directory (a log, say) must
    not wake the watcher, let alone reload."""
    resolved = target.resolve()

    def is_target(_: Change, changed: str) -> bool:
        return Path(changed).resolve() == resolved

    return is_target


async def watch_subscriptions(
    path: Path,
    settings: Settings,
    router: Router,
    sinks: SinkSet,
    *,
    on_reload: Callable[[bool], None] | None = None,
    debounce_ms: int = 400,
) -> None:
    """Reload whenever ``path`` changes; runs until cancelled."""
    target = path.resolve()
    changes = awatch(target.parent, watch_filter=only(target), debounce=debounce_ms, step=50)
    async for _ in changes:
        ok = await reload_subscriptions(path, settings, router, sinks)
        if on_reload is not None:
            on_reload(ok)
