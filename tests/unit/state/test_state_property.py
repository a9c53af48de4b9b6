"""Property: the arrival order of a story's copies never changes how many alerts it gives."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from state_fixtures import DAY, SUMMIT, JSONMapping, article, at, copy_of, match

from stream.models import Article
from stream.state import AlertState

OUTLETS = ["ledger", "courier", "herald", "wire", "gazette", "post"]

copies = st.lists(
    st.tuples(
        st.sampled_from(OUTLETS),  # who published the copy
        st.integers(0, 2),  # which of that outlet's pages: equal pages share a URL
        st.booleans(),  # verbatim wire text, or the outlet's own footer
    ),
    min_size=1,
    max_size=10,
)


def build(spec: list[tuple[str, int, bool]]) -> list[Article]:
    return [
        article(
            f"copy-{n}",
            SUMMIT if verbatim else copy_of(SUMMIT, outlet),
            source=outlet,
            url=f"https://{outlet}.example/story/{page}",
            title=f"{outlet} headline {n}",
        )
        for n, (outlet, page, verbatim) in enumerate(spec)
    ]


@settings(max_examples=60, deadline=None)
@given(
    spec=copies,
    order=st.randoms(use_true_random=False),
    needed=st.integers(1, 4),
    tiers=st.sampled_from([(), ((3, "high"),), ((2, "high"), (4, "critical"))]),
)
def test_shuffled_copies_give_the_same_number_of_alerts(
    spec: list[tuple[str, int, bool]],
    order: random.Random,
    needed: int,
    tiers: tuple[tuple[int, str], ...],
) -> None:
    rule = match(threshold=(needed, DAY) if needed > 1 else None, escalate=tiers)
    items = build(spec)
    shuffled = list(items)
    order.shuffle(shuffled)

    def count(sequence: list[Article]) -> list[str]:
        state = AlertState(JSONMapping())
        kinds: list[str] = []
        for step, item in enumerate(sequence):
            kinds.extend(a.kind for a in state.decide(rule, item, at(step * 60)))
        return kinds

    in_order, reordered = count(items), count(shuffled)
    assert len(in_order) == len(reordered)
    # one alert when the needed outlets are reached, then one per further outlet
    outlets = len({outlet for outlet, _, _ in spec})
    assert len(reordered) == (1 + outlets - needed if outlets >= needed else 0)
    assert reordered.count("new") == (1 if outlets >= needed else 0)
