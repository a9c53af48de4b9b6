"""The Playground: live, chosen and pasted rules; YAML problems with lines; nothing sent."""

from __future__ import annotations

import pytest
from console_helpers import make_alert, make_runtime
from pydantic import ValidationError

from stream.engine import RuleSet
from stream.web.console.playground import PlaygroundInput, prefill, run_playground

TITLE = "Armenia will skip the CSTO summit in Minsk"
BODY = (
    "Officials in Yerevan said Armenia will not attend the CSTO summit next week. "
    "Some lawmakers now openly discuss whether Armenia should withdraw from the CSTO."
)
PASTED = """\
rules:
  - id: my-summit-skip
    name: Summit skipped (trial)
    severity: low
    entity: $csto_members
    when:
      all:
        - any: [$csto]
        - near: [$csto_members, $absence]
          within: 8
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return make_runtime(tmp_path_factory.mktemp("pg")).rules.ruleset


def test_all_live_rules_when_none_chosen(live: RuleSet) -> None:
    result = run_playground(PlaygroundInput(title=TITLE, body=BODY), live)
    fired = {o.rule_id: o.match for o in result.fired}
    assert {"csto-member-skips-summit", "csto-member-departure-risk"} <= set(fired)
    assert all(m is not None and m.entity == "Armenia" for m in fired.values())
    assert result.mode == "live"
    assert result.checked == sum(1 for r in live.rules if r.enabled)
    assert '<mark class="hit">Armenia</mark>' in str(result.title)
    assert '<mark class="hit">withdraw</mark>' in str(result.body)


def test_chosen_rules_report_quiet_ones_too(live: RuleSet) -> None:
    given = PlaygroundInput(
        title="Kyrgyzstan will host CSTO drills", body="",
        rules=("csto-member-skips-summit", "no-such-rule", "csto-member-skips-summit"),
    )
    result = run_playground(given, live)
    assert result.mode == "chosen"
    assert [(o.rule_id, o.fired) for o in result.outcomes] == [
        ("csto-member-skips-summit", False)]


def test_pasted_rule_uses_live_lists(live: RuleSet) -> None:
    result = run_playground(PlaygroundInput(title=TITLE, body=BODY, rule_yaml=PASTED), live)
    assert result.mode == "pasted" and not result.problems
    (outcome,) = result.outcomes
    assert outcome.rule_id == "my-summit-skip" and outcome.fired
    assert outcome.match is not None and outcome.match.entity == "Armenia"
    assert any("<mark" in str(snippet) for _, snippet in outcome.evidence)


def test_pasted_lists_replace_live_ones_of_the_same_name(live: RuleSet) -> None:
    own = "lists:\n  csto_members:\n    Belarus: [Minsk]\n" + PASTED
    result = run_playground(PlaygroundInput(title=TITLE, body=BODY, rule_yaml=own), live)
    assert not result.problems
    (outcome,) = result.outcomes
    # Armenia is no member in the pasted list, so only "Minsk" (Belarus) can be the entity.
    assert outcome.match is not None and outcome.match.entity == "Belarus"


def test_pasted_rule_with_the_id_of_a_live_rule_is_allowed(live: RuleSet) -> None:
    text = PASTED.replace("my-summit-skip", "csto-member-skips-summit")
    result = run_playground(PlaygroundInput(title=TITLE, body=BODY, rule_yaml=text), live)
    assert not result.problems
    assert [o.rule_id for o in result.fired] == ["csto-member-skips-summit"]


def test_pasted_rule_can_use_a_derived_live_list(live: RuleSet) -> None:
    """``nato_members`` is derived ``from: states``: both must come along with the paste."""
    text = PASTED.replace("$csto_members", "$nato_members").replace("[$csto]", "[$nato_names]")
    given = PlaygroundInput(title="Hungary will skip the NATO summit in The Hague", rule_yaml=text)
    result = run_playground(given, live)
    assert not result.problems, result.problems
    (outcome,) = result.outcomes
    assert outcome.match is not None and outcome.match.entity == "Hungary"


def test_pasted_for_each_rules_see_every_live_list(live: RuleSet) -> None:
    text = """\
tables:
  blocs: [{id: csto, list: csto_members}]
rules:
  - id: "${b.id}-trial"
    for_each: {b: "@blocs"}
    name: trial
    severity: low
    entity: "$${b.list}"
    when:
      near: ["$${b.list}", $absence]
      within: 8
"""
    result = run_playground(PlaygroundInput(title=TITLE, rule_yaml=text), live)
    assert not result.problems, result.problems
    assert [(o.rule_id, o.fired) for o in result.outcomes] == [("csto-trial", True)]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (PASTED.replace("severity: low", "severity: loud"), 4, "'loud'"),
        (PASTED.replace("[$csto]", "[$cstoo]"), 8, "cstoo"),
        ("rules:\n  - id: x\n    name: [unclosed\n", 4, "flow sequence started at line 3"),
        (PASTED.replace("    name:", "    nmae:"), 3, "nmae"),
    ],
)
def test_yaml_problems_name_the_pasted_line(
    live: RuleSet, text: str, line: int, needle: str
) -> None:
    result = run_playground(PlaygroundInput(title=TITLE, body=BODY, rule_yaml=text), live)
    assert result.problems and not result.outcomes
    first = result.problems[0]
    assert first.file == "pasted.yml", result.problems
    assert first.line == line, result.problems
    assert needle in first.message
    assert "newsalert-playground" not in str(result.problems), "no temporary paths shown"


def test_untrusted_text_is_escaped_in_the_marked_article(live: RuleSet) -> None:
    body = "<script>alert(1)</script> Armenia will skip the CSTO summit."
    result = run_playground(PlaygroundInput(title="x", body=body), live)
    assert "<script>" not in str(result.body)
    assert "&lt;script&gt;" in str(result.body)


def test_limits_and_bad_text(live: RuleSet) -> None:
    with pytest.raises(ValidationError):
        PlaygroundInput(body="x" * 200_001)
    result = run_playground(PlaygroundInput(title="a\x00b"), live)
    assert result.error and "NUL" in result.error


def test_prefill_from_an_alert_uses_title_and_body_excerpts() -> None:
    given = prefill(make_alert())
    assert given.title == "Yerevan sends no one to the CSTO summit"
    assert given.body == "the delegation would not attend the CSTO summit this week"
