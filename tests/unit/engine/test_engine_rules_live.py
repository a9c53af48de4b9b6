"""Hot reload against a real directory: valid edits go live, invalid ones keep the old rules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path

import pytest

from stream.errors import Problem, RuleError
from stream.models import Article
from stream.rules_live import LiveRules

LIVE_WITHIN_S = 2.0  # the promise: an edit is live within 2 seconds


def _rule_file(term: str) -> str:
    return json.dumps({"rules": [{"id": "watch", "name": "Watch", "when": {"any": [term]}}]})


def _article(body: str) -> Article:
    return Article(id="a", title="", body=body)


def test_reload_keeps_old_rules_on_error(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(_rule_file("summit"), encoding="utf-8")
    live = LiveRules([tmp_path])
    first = live.version
    assert live.last_reload is not None and live.last_errors == ()

    path.write_text("rules:\n  - id: watch\n    name: Watch\n    whne: {any: [x]}\n")
    problems = live.reload()
    assert [p.line for p in problems] == [4]
    assert live.version == first
    assert live.last_errors == tuple(problems)
    assert live.ruleset.evaluate(_article("summit today"))

    path.write_text(_rule_file("ministerial"), encoding="utf-8")
    assert live.reload() == []
    assert live.version != first and live.last_errors == ()
    assert not live.ruleset.evaluate(_article("summit today"))


def test_initial_invalid_rules_raise(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("rules: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(RuleError):
        LiveRules([tmp_path])


async def test_watch_applies_a_valid_edit_within_two_seconds(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text(_rule_file("summit"), encoding="utf-8")
    live = LiveRules([tmp_path], debounce_ms=200)
    first = live.version
    attempts: asyncio.Queue[list[Problem]] = asyncio.Queue()

    async def on_reload(_ruleset: object, problems: list[Problem]) -> None:
        await attempts.put(problems)

    stop, ready = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(live.watch(on_reload, stop_event=stop, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), timeout=5)
        await _edit_until_reloaded(path, "rules: [{id: broken}]\n", attempts)
        assert live.version == first  # rejected: old rules stay live
        assert live.last_errors and live.last_errors[0].file == str(path)

        loop = asyncio.get_running_loop()
        started = loop.time()
        problems = await _edit_until_reloaded(path, _rule_file("ministerial"), attempts)
        elapsed = loop.time() - started
        assert problems == []
        assert live.version != first
        assert live.ruleset.evaluate(_article("a ministerial meeting"))
        assert elapsed < LIVE_WITHIN_S, f"edit took {elapsed:.2f}s to go live"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watcher, timeout=5)


async def _edit_until_reloaded(
    path: Path, text: str, attempts: asyncio.Queue[list[Problem]]
) -> list[Problem]:
    """Write ``text`` and wait (bounded) for the reload attempt that saw it."""
    path.write_text(text, encoding="utf-8")
    return await asyncio.wait_for(attempts.get(), timeout=LIVE_WITHIN_S)


async def test_shipped_packs_reload_within_two_seconds(tmp_path: Path) -> None:
    """The promise holds for the real rule tree, not only for a one-rule file."""
    shutil.copytree(Path(__file__).resolve().parents[3] / "rules", tmp_path / "rules")
    csto = tmp_path / "rules" / "alliances" / "csto.yml"
    live = LiveRules([tmp_path / "rules"])
    first = live.version
    attempts: asyncio.Queue[list[Problem]] = asyncio.Queue()
    stop, ready = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(
        live.watch(lambda _r, problems: attempts.put_nowait(problems), stop_event=stop,
                   ready=ready)
    )
    try:
        await asyncio.wait_for(ready.wait(), timeout=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        edited = csto.read_text(encoding="utf-8").replace("Pashinyan,", "Pashinyan, Vanadzor,")
        assert await _edit_until_reloaded(csto, edited, attempts) == []
        elapsed = loop.time() - started
        assert live.version != first
        matches = live.ruleset.evaluate(_article("Vanadzor officials will skip the CSTO summit."))
        assert "csto-member-skips-summit" in {m.rule_id for m in matches}
        assert elapsed < LIVE_WITHIN_S, f"edit took {elapsed:.2f}s to go live"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watcher, timeout=5)
