"""``near`` looks at sentences only when the field alone holds a window, and answers the same.

A window inside one sentence is never shorter than the field's, so a field without one
cannot have one in any sentence. The property below compares the engine's ``near`` with the
sentence-by-sentence computation alone, on generated text with sentence ends and
abbreviations, for windows of several sizes, groups of two and three, and across sentences.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stream.engine.evaluate as evaluate_module
from stream.engine import RuleSet, load_rules
from stream.engine.compiler import Group, NearNode, Node
from stream.engine.text import FieldText
from stream.models import Article

WHENS = [
    {"near": ["Armenia", "skip*"], "within": 3},
    {"near": ["Armenia", "skip*"], "within": 8},
    {"near": [["Armenia", "Yerevan"], "skip*", "summit"], "within": 6},
    {"near": ["Armenia", "skip*"], "within": 4, "across_sentences": True},
    {"all": [{"near": ["summit", "Yerevan"], "within": 2}, {"any": ["Armenia"]}]},
]
PIECES = [
    "Armenia", "Yerevan", "skips", "skipped", "summit", "the", "talks", "Mr.", "Dr", "U.S.",
    ". ", ". The ", "! ", "? ", "\n", "\n\n", ", ", " ", " ", " ", "\u201d ", "; ",
]


@pytest.fixture(scope="module")
def near_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    rules = [{"id": f"n{i}", "name": f"N{i}", "when": when} for i, when in enumerate(WHENS)]
    path = tmp_path_factory.mktemp("near") / "rules.yml"
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return load_rules([path])


def _near_nodes(node: Node) -> list[NearNode]:
    if isinstance(node, NearNode):
        return [node]
    return [n for item in node.items if not isinstance(item, Group) for n in _near_nodes(item)]


def _by_sentence_only(
    node: NearNode, ctx: evaluate_module._Context, fields: frozenset[int]
) -> evaluate_module._Result:
    """The sentence-level computation on its own, as ``near`` was before the field pass."""
    per_group = [ctx.occurrences(group.terms, node.fields or fields) for group in node.groups]
    if not all(per_group):
        return evaluate_module._FAIL

    def segment(occ: evaluate_module.Occ) -> tuple[int, int]:
        if node.across:
            return (occ.field, 0)
        return (occ.field, ctx.fields[occ.field].sentence_of(occ.first))

    windows = evaluate_module._windows(per_group, segment, node.within)
    if not windows:
        return evaluate_module._FAIL
    windows.sort()
    return evaluate_module._Result(True, list(windows[0].occs), windows)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    body=st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
)
def test_near_equals_the_sentence_level_computation(
    near_rules: RuleSet, title: str, body: str
) -> None:
    fields = [FieldText(title), FieldText(body)]
    ctx = evaluate_module._Context(fields, near_rules._matcher.scan(fields))
    for rule in near_rules.rules:
        for node in _near_nodes(rule.root):
            assert evaluate_module._near(node, ctx, rule.fields) == _by_sentence_only(
                node, ctx, rule.fields
            )


def test_a_field_without_a_window_never_counts_sentences(near_rules: RuleSet) -> None:
    body = "Armenia said so. " + "Nothing to report here. " * 40 + "They skipped it."
    fields = [FieldText(""), FieldText(body)]
    ctx = evaluate_module._Context(fields, near_rules._matcher.scan(fields))
    node = _near_nodes(near_rules.rules[0].root)[0]
    assert not evaluate_module._near(node, ctx, near_rules.rules[0].fields).ok
    assert fields[1]._sentence_breaks is None  # no sentence was looked up
    close = [FieldText(""), FieldText("Armenia will skip. Armenia. Others skip.")]
    ctx = evaluate_module._Context(close, near_rules._matcher.scan(close))
    assert evaluate_module._near(node, ctx, near_rules.rules[0].fields).ok
    assert close[1]._sentence_breaks is not None


def test_the_generated_texts_do_fire(near_rules: RuleSet) -> None:
    """The property compares real windows, not only failures."""
    fired = near_rules.evaluate(
        Article(id="a", title="", body="Armenia skips the summit. Yerevan talks.")
    )
    assert {m.rule_id for m in fired} >= {"n0", "n1", "n2", "n3"}
