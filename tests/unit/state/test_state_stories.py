"""Story placement: exact duplicates first, MinHash near-duplicates next, scopes apart."""

from __future__ import annotations

import json

import pytest
from state_fixtures import LAB, PORT, SUMMIT, article, copy_of

from stream.models import Article
from stream.state.store import TTLStore
from stream.state.stories import (
    StoryIndex,
    estimate_similarity,
    lsh_params,
    shingles,
    signature,
)

FIRST = article("wire-1", SUMMIT, source="Wire", url="https://wire.example/summit?utm_source=x")


@pytest.mark.parametrize(
    ("similarity", "num_perm", "expected"),
    [(0.5, 64, (14, 4)), (0.8, 128, (9, 14)), (0.6, 64, (10, 6))],
)
def test_lsh_params(similarity: float, num_perm: int, expected: tuple[int, int]) -> None:
    bands, rows = lsh_params(similarity, num_perm)
    assert (bands, rows) == expected
    assert bands * rows <= num_perm


@pytest.mark.parametrize("similarity", [0.0, 1.0, -0.2, 1.5])
def test_lsh_params_rejects_out_of_range(similarity: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        lsh_params(similarity, 64)


def test_headline_only_helps_short_bodies() -> None:
    long_body = article("a", SUMMIT, title="Unrelated headline words")
    assert b"unrelated headline words" not in shingles(long_body)
    short = article("b", "minister skips summit", title="Alliance row")
    assert b"alliance row minister" in shingles(short)
    assert shingles(article("c", "", title="Hi")) == [b"hi"]


def test_copies_are_similar_and_other_stories_are_not() -> None:
    base = signature(FIRST)
    assert estimate_similarity(base, signature(article("x", copy_of(SUMMIT, "Ledger")))) >= 0.8
    assert estimate_similarity(base, signature(article("y", PORT))) < 0.2
    assert estimate_similarity(base, ()) == 0.0


@pytest.mark.parametrize(
    ("second", "same_story", "seen"),
    [
        # the same article redelivered
        (FIRST, True, True),
        # the same page under another id and a tracking-tagged URL
        (article("wire-1b", "edited", url="https://WIRE.example/summit?fbclid=1"), True, True),
        # a verbatim syndicated copy under another URL and headline
        (article("p-1", SUMMIT, url="https://paper.example/1", title="Other title"), True, False),
        # a near copy: one word changed and an outlet footer
        (article("p-2", copy_of(SUMMIT, "Courier"), url="https://courier.example/2"), True, False),
        # unrelated stories
        (article("p-3", PORT, url="https://paper.example/3"), False, False),
        (article("p-4", LAB), False, False),
    ],
)
def test_place(second: Article, same_story: bool, seen: bool) -> None:
    index = StoryIndex(TTLStore({}))
    first = index.place("s1:", FIRST, now=0.0, expires=100.0)
    assert first.new_story and not first.seen
    placed = index.place("s1:", second, now=1.0, expires=100.0)
    assert (placed.story_id == first.story_id) is same_story
    assert placed.seen is seen
    assert placed.new_story is not same_story


def test_scopes_never_share_stories_and_keys_carry_the_prefix() -> None:
    raw: dict[str, object] = {}
    index = StoryIndex(TTLStore(raw))
    a = index.place("s1:", FIRST, now=0.0, expires=100.0)
    b = index.place("s2:", FIRST, now=0.0, expires=100.0)
    assert a.story_id != b.story_id
    assert not b.seen
    assert all(key.startswith(("s1:", "s2:")) for key in raw)
    json.dumps(raw)


def test_expired_index_forgets_the_story() -> None:
    index = StoryIndex(TTLStore({}))
    first = index.place("s:", FIRST, now=0.0, expires=100.0)
    later = index.place("s:", article("p-2", copy_of(SUMMIT, "Courier")), now=100.0, expires=200)
    assert later.new_story
    assert later.story_id != first.story_id


def test_chained_copies_join_the_closest_story() -> None:
    index = StoryIndex(TTLStore({}))
    summit = index.place("s:", FIRST, now=0.0, expires=100.0)
    port = index.place("s:", article("port", PORT), now=0.0, expires=100.0)
    copy = index.place("s:", article("port-2", copy_of(PORT, "Ledger")), now=1.0, expires=100.0)
    assert copy.story_id == port.story_id != summit.story_id
