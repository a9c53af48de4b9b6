"""Which candidate rules have a key of every required group, from the keys an article holds.

A rule can fire only when each of its required groups (the keys of one ``all`` branch) has a
key in the article. Asked group by group, that is a set test per group of every candidate
rule: an article naming "EU" makes every rule about the EU a candidate, a few dozen rules of
three or four groups each, about 12 µs of set tests for each article the gate admits. The
groups are numbered once per rule set instead (rules written with the same lists share them),
so the keys present name the groups they satisfy in a few lookups, and each candidate rule
is one subset test of its group numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["RequiredGroups"]


class RequiredGroups:
    """Each rule's required key groups as numbers, and the groups each key belongs to."""

    def __init__(self, required: Sequence[tuple[frozenset[int], ...]]) -> None:
        numbers: dict[frozenset[int], int] = {}
        # By rule position: a rule can fire only if ``of_rule[position] <= satisfied(keys)``.
        self.of_rule: tuple[frozenset[int], ...] = tuple(
            frozenset(numbers.setdefault(group, len(numbers)) for group in groups)
            for groups in required
        )
        of_key: dict[int, set[int]] = {}
        for group, number in numbers.items():
            for key in group:
                of_key.setdefault(key, set()).add(number)
        self._of_key = {key: frozenset(found) for key, found in of_key.items()}

    def satisfied(self, present: Iterable[int]) -> set[int]:
        """The numbers of the groups that have a key in ``present``."""
        of_key = self._of_key
        found: set[int] = set()
        for key in present:
            groups = of_key.get(key)
            if groups is not None:
                found |= groups
        return found
