"""Numbered required groups answer like the per-group set tests they replace."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stream.engine.groups import RequiredGroups

keys = st.integers(min_value=0, max_value=12)
groups = st.frozensets(keys, max_size=4)
rules = st.lists(st.lists(groups, max_size=4).map(tuple), min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(required=rules, present=st.sets(keys, max_size=8))
def test_a_rule_is_complete_when_each_group_has_a_key_present(
    required: list[tuple[frozenset[int], ...]], present: set[int]
) -> None:
    index = RequiredGroups(required)
    satisfied = index.satisfied(present)
    for position, rule_groups in enumerate(required):
        expected = not any(map(present.isdisjoint, rule_groups))
        assert (index.of_rule[position] <= satisfied) is expected


def test_rules_written_with_the_same_list_share_its_number() -> None:
    names = frozenset({1, 2})
    index = RequiredGroups([(names, frozenset({3})), (names, frozenset({4})), ()])
    assert index.of_rule[0] & index.of_rule[1]
    assert index.of_rule[2] == frozenset()
    assert index.satisfied({2, 4}) == index.of_rule[1]
    assert index.satisfied({9}) == set()
    assert not index.of_rule[0] <= index.satisfied({1, 4})
    assert index.of_rule[2] <= index.satisfied(set())  # no required group: always complete
