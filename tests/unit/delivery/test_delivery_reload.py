"""Hot reload: a valid edit changes routing, a broken edit keeps the last good subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change

from stream.delivery.reload import only, reload_subscriptions, watch_subscriptions
from stream.delivery.router import build_router, build_sinks
from stream.models import Alert
from stream.settings import Settings

AlertFactory = Callable[..., Alert]

FIRST = "destinations:\n  a: {type: console}\nroutes:\n  - {tags: [csto], to: [a]}\n"
SECOND = "destinations:\n  b: {type: console}\nroutes:\n  - {to: [b]}\n"
BROKEN = "destinations:\n  b: {type: console}\nroutes:\n  - {to: [c]}\n"


async def test_reload_swaps_routes_and_keeps_them_on_error(
    tmp_path: Path, make_alert: AlertFactory
) -> None:
    path = tmp_path / "subs.yml"
    path.write_text(FIRST)
    settings = Settings(console_alerts=False)
    router = build_router(settings, path)
    sinks = build_sinks(settings, router.subscriptions)
    old = sinks["a"]
    assert router.route(make_alert()) == ["a"]
    path.write_text(SECOND)
    assert await reload_subscriptions(path, settings, router, sinks)
    assert router.route(make_alert()) == ["b"]
    assert "a" not in sinks and sinks["b"] is not old
    path.write_text(BROKEN)
    assert not await reload_subscriptions(path, settings, router, sinks)
    assert router.route(make_alert()) == ["b"]


async def test_watcher_follows_edits(tmp_path: Path, make_alert: AlertFactory) -> None:
    path = tmp_path / "subs.yml"
    path.write_text(FIRST)
    settings = Settings(console_alerts=False)
    router = build_router(settings, path)
    sinks = build_sinks(settings, router.subscriptions)
    results: asyncio.Queue[bool] = asyncio.Queue()
    watcher = asyncio.create_task(
        watch_subscriptions(
            path, settings, router, sinks, on_reload=results.put_nowait, debounce_ms=50
        )
    )
    try:
        # The watcher may start after the first write; keep writing until it reports.
        async with asyncio.timeout(15):
            while True:
                path.write_text(SECOND)
                try:
                    ok = await asyncio.wait_for(results.get(), timeout=0.5)
                    break
                except TimeoutError:
                    continue
        assert ok and router.route(make_alert()) == ["b"]
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


def test_the_watcher_ignores_the_other_files_of_its_directory(tmp_path: Path) -> None:
    """A worker that logs next to its subscriptions file must not reload on every log line."""
    path = tmp_path / "subs.yml"
    wanted = only(path)
    assert wanted(Change.modified, str(path))
    assert wanted(Change.added, str(tmp_path / "." / "subs.yml"))
    assert not wanted(Change.modified, str(tmp_path / "worker.log"))
    assert not wanted(Change.added, str(tmp_path / "subs.yml.swp"))
