"""Each invalid rule file is rejected with the right file:line and a message that says the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.engine import load_rules
from stream.errors import RuleError

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "rules_invalid"
CSTO = REPO / "rules" / "alliances" / "csto.yml"

# fixture file -> (line, column, fragment of the message)
CASES: dict[str, tuple[int, int, str]] = {
    "unknown_key.yml": (5, 5, "unknown key 'whne' (did you mean 'when'?)"),
    "unknown_top_key.yml": (2, 1, "unknown key 'list' (did you mean 'lists'?)"),
    "undefined_list.yml": (8, 13, "undefined list $member (did you mean 'members'?)"),
    "bad_regex.yml": (8, 11, "bad regular expression '(walk|storm)ed out('"),
    "bad_template.yml": (8, 14, "bad template: unexpected '}'"),
    "template_unknown_variable.yml": (8, 14, "unknown variable country"),
    "empty_group.yml": (8, 16, "empty `any`"),
    "near_one_group.yml": (6, 13, "`near` needs at least two groups"),
    "duplicate_rule_id.yml": (7, 9, "duplicate rule id 'same-id': also defined at "),
    "duplicate_rule_id_across_files.yml": (
        3, 9, "duplicate rule id 'csto-member-skips-summit': also defined at ",
    ),
    "duplicate_list_across_files.yml": (3, 3, "duplicate list 'csto': also defined at "),
    "bad_severity.yml": (5, 15, "invalid value 'hihg'"),
    "bad_duration.yml": (5, 12, "write a duration such as 30s, 15m, 12h or 7d"),
    "for_each_unknown_field.yml": (8, 11, "unknown for_each field 'nmae'"),
    "for_each_unknown_table.yml": (8, 12, "undefined table '@aliances' (did you mean"),
    "for_each_unknown_variable.yml": (9, 13, "unknown for_each variable 'group'"),
    "for_each_example_target.yml": (13, 14, "`for: natoo` matches no for_each item"),
    "derived_unknown_name.yml": (8, 21, "'Armenai' is not an entry of list 'states'"),
    "derived_alias_name.yml": (8, 12, "'Yerevan' is an alias of Armenia, write Armenia"),
    "two_operators.yml": (6, 7, "exactly one of any, all, none, near (found any, near)"),
    "within_without_near.yml": (6, 7, "only apply to `near`"),
    "short_prefix.yml": (6, 21, "prefix 'un*' is too short"),
    "yaml_syntax.yml": (7, 1, "invalid YAML"),
    "entity_plain_list.yml": (7, 13, "`entity` needs an entity list"),
    "escalation_below_threshold.yml": (7, 19, "increasing sources above 3"),
    "invalid_rule_id.yml": (3, 9, "rule ids use lowercase letters"),
    "missing_when.yml": (3, 5, "missing required key 'when'"),
    "alias_two_entities.yml": (5, 26, "'Brazzaville' in list 'states' names both"),
    "list_cycle.yml": (4, 13, "includes itself"),
    "duplicate_key.yml": (7, 5, "duplicate key 'when' (first at line 5)"),
}


def _load(name: str) -> list[str]:
    paths = [FIXTURES / name]
    if "across_files" in name:
        paths.insert(0, CSTO)
    with pytest.raises(RuleError) as caught:
        load_rules(paths)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("name", "expected"), sorted(CASES.items()))
def test_invalid_file_is_reported_at_its_line(name: str, expected: tuple[int, int, str]) -> None:
    line, column, fragment = expected
    problems = _load(name)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{FIXTURES / name}:{line}:{column}: "), problems[0]
    assert fragment in problems[0]


def test_cross_file_duplicates_name_the_other_place() -> None:
    [problem] = _load("duplicate_rule_id_across_files.yml")
    assert f"{CSTO}:" in problem


def test_every_problem_in_a_file_is_reported() -> None:
    problems = _load("several_problems.yml")
    located = [p.split(": ", 1)[0].rsplit(":", 2)[1] for p in problems]
    assert located == ["5", "11", "11"], problems


def test_every_fixture_is_in_the_table() -> None:
    files = {p.name for p in FIXTURES.glob("*.yml")}
    assert files - {"several_problems.yml"} == set(CASES)
