"""After start-up the worker freezes its long-lived objects, and nothing replaced later leaks."""

from __future__ import annotations

import asyncio
import gc
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream import heap
from stream.rules_live import LiveRules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


class _LongLived:
    """A tracked object standing for what start-up builds."""


def test_full_collections_no_longer_walk_what_was_alive() -> None:
    kept = _LongLived()
    assert any(obj is kept for obj in gc.get_objects())

    frozen = heap.settle()

    assert frozen == gc.get_freeze_count() > 0
    assert gc.is_tracked(kept)
    assert not any(obj is kept for obj in gc.get_objects())
    made_later = _LongLived()
    assert any(obj is made_later for obj in gc.get_objects())


def test_start_up_garbage_is_collected_first() -> None:
    holder = _LongLived()
    holder.self = holder  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    freed = weakref.finalize(holder, lambda: None)
    del holder

    heap.settle()

    assert not freed.alive  # collected before the freeze, not frozen with the rest


def test_a_reloaded_rule_set_is_freed_although_frozen(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    live = LiveRules([rules_dir])
    first = weakref.ref(live.ruleset)
    heap.settle()

    pack = next(rules_dir.rglob("*.yml"))
    pack.write_text(pack.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert live.reload() == []

    assert live.ruleset is not first()
    # Frozen objects are never collected, so this holds only if nothing in a rule set is
    # part of a reference cycle: reference counting alone must free it.
    assert first() is None


def test_settling_again_frees_frozen_garbage_in_a_cycle() -> None:
    holder = _LongLived()
    holder.self = holder  # type: ignore[attr-defined]
    freed = weakref.finalize(holder, lambda: None)
    heap.settle()
    del holder
    gc.collect()
    assert freed.alive  # frozen: full collections do not see it

    heap.settle()

    assert not freed.alive


async def test_keep_settled_settles_at_once_and_again_until_stopped() -> None:
    stop = asyncio.Event()
    rounds: list[int] = []
    real = heap.settle

    def counted() -> int:
        rounds.append(1)
        if len(rounds) == 3:
            stop.set()
        return real()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(heap, "settle", counted)
        await asyncio.wait_for(heap.keep_settled(stop, every_s=0.01), timeout=10)

    assert len(rounds) == 3
    assert gc.get_freeze_count() > 0
