"""The matching semantics of the rule language, one row per behaviour."""

from __future__ import annotations

import json

import pytest
from engine_helpers import LoadText

from stream.models import Article


def _rule(when: dict[str, object], **extra: object) -> str:
    """A one-rule file; ``when`` and extra keys are written as JSON (which is YAML)."""
    lists = {
        "members": {"Armenia": ["Armenian", "Yerevan"], "Russia": ["Kremlin", "Moscow"]},
        "absence": ["skip*", "stay* away", "no-show"],
        "bloc": ["CSTO"],
    }
    rule = {"id": "r", "name": "R", "when": when, **extra}
    return json.dumps({"lists": lists, "rules": [rule]})


def _article(body: str, title: str = "") -> Article:
    return Article(id="a1", title=title, body=body)


CASES = [
    # (behaviour, when, title, body, fires)
    ("case and diacritics", {"any": ["Armenia"]}, "", "ARMÉNIA said so", True),
    ("curly apostrophe", {"any": ["Armenia"]}, "", "Armenia\u2019s leaders", True),
    ("whole token only", {"any": ["Armenia"]}, "", "Armenians said so", False),
    ("prefix", {"any": ["skip*"]}, "", "they skipped it", True),
    ("prefix is a start", {"any": ["skip*"]}, "", "a reskipping", False),
    ("phrase with prefix", {"any": ["stay* away"]}, "", "they stayed away", True),
    ("phrase needs adjacency", {"any": ["stay* away"]}, "", "stayed far away", False),
    ("hyphen equals space", {"any": ["no-show"]}, "", "a no show again", True),
    ("space equals hyphen", {"any": ["no show"]}, "", "a no-show again", True),
    ("regex", {"any": ["re:\\bsummit(s|eers)?\\b"]}, "", "two Summits", True),
    ("regex miss", {"any": ["re:^zzz"]}, "", "summit", False),
    ("list expansion", {"any": ["$members"]}, "", "in Yerevan today", True),
    ("all needs every item", {"all": ["Armenia", "$bloc"]}, "", "Armenia only", False),
    ("all satisfied", {"all": ["Armenia", "$bloc"]}, "", "Armenia and the CSTO", True),
    ("none blocks", {"all": ["Armenia", {"none": ["football"]}]}, "", "Armenia football", False),
    ("none passes", {"all": ["Armenia", {"none": ["football"]}]}, "", "Armenia talks", True),
    (
        "nested any in all",
        {"all": [{"any": ["x1", "Armenia"]}, {"any": ["$bloc", "y1"]}]},
        "",
        "Armenia and CSTO",
        True,
    ),
    ("near default 10", {"near": ["$members", "$absence"]}, "", "Armenia " + "a " * 9 + "skip", 1),
    ("near too far", {"near": ["$members", "$absence"]}, "", "Armenia " + "a " * 10 + "skip", 0),
    ("near within", {"near": ["Armenia", "skip*"], "within": 2}, "", "Armenia will skip", True),
    ("near adjacent", {"near": ["Armenia", "skip*"], "within": 1}, "", "Armenia skip", 1),
    ("near within exceeded", {"near": ["Armenia", "skip*"], "within": 1}, "", "Armenia to skip", 0),
    ("near either order", {"near": ["Armenia", "skip*"]}, "", "skipped by Armenia", True),
    ("near one sentence", {"near": ["Armenia", "skip*"]}, "", "Armenia. Others skip.", False),
    (
        "near across sentences",
        {"near": ["Armenia", "skip*"], "across_sentences": True},
        "",
        "Armenia. Others skip.",
        True,
    ),
    ("near three groups", {"near": ["Armenia", "skip*", "CSTO"]}, "", "Armenia to skip CSTO", True),
    ("near group as list", {"near": [["Belarus", "Armenia"], "skip*"]}, "", "Armenia skips", True),
    ("condition fields", {"any": ["Armenia"], "fields": ["title"]}, "Other", "Armenia", False),
    ("condition fields hit", {"any": ["Armenia"], "fields": ["title"]}, "Armenia", "x", True),
    ("title and body are separate", {"near": ["Armenia", "skip*"]}, "Armenia", "skip", False),
]


@pytest.mark.parametrize(
    ("when", "title", "body", "fires"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_semantics(
    load_text: LoadText, when: dict[str, object], title: str, body: str, fires: int
) -> None:
    ruleset = load_text(_rule(when))
    assert bool(ruleset.evaluate(_article(body, title))) is bool(fires)


def test_rule_level_fields(load_text: LoadText) -> None:
    ruleset = load_text(_rule({"any": ["Armenia"]}, fields=["title"]))
    assert ruleset.evaluate(_article("Armenia", "")) == []
    assert len(ruleset.evaluate(_article("", "Armenia"))) == 1


ENTITY_CASES = [
    # tightest satisfied near wins, even over a member named earlier or in the title
    ("tightest near", "", "The Kremlin said Armenia will skip it", "Armenia"),
    ("title first", "Moscow and Yerevan", "talks skipped", "Russia"),
    ("body first", "", "Yerevan and Moscow met. Nothing was skipped.", "Armenia"),
    ("alias to canonical", "", "Officials in Yerevan skip", "Armenia"),
]


@pytest.mark.parametrize(
    ("title", "body", "entity"), [c[1:] for c in ENTITY_CASES], ids=[c[0] for c in ENTITY_CASES]
)
def test_entity_choice(load_text: LoadText, title: str, body: str, entity: str) -> None:
    when = {"any": [{"near": ["$members", "$absence"], "within": 3}, "$absence"]}
    ruleset = load_text(_rule(when, entity="$members"))
    [match] = ruleset.evaluate(_article(body, title))
    assert match.entity == entity


def test_evidence_points_at_the_original_text(load_text: LoadText) -> None:
    ruleset = load_text(_rule({"near": ["$members", "$absence"]}, entity="$members"))
    body = "Officials say Arménia\u2019s team will \u201cskip\u201d the talks."
    [match] = ruleset.evaluate(_article(body))
    assert [(e.term, e.text) for e in match.evidence] == [("Armenia", "Arménia"), ("skip*", "skip")]
    for evidence in match.evidence:
        assert body[evidence.start : evidence.end] == evidence.text
        assert evidence.text in evidence.snippet
        assert evidence.field == "body"


def test_templates_render_entity_rule_article_and_evidence(load_text: LoadText) -> None:
    alert = {
        "title": "{{ entity }}: {{ rule.name }} ({{ article.source }})",
        "text": "{% for e in evidence %}{{ e.text }};{% endfor %}",
    }
    ruleset = load_text(_rule({"any": ["$members"]}, entity="$members", alert=alert))
    article = Article(id="a", title="", body="Yerevan and Moscow", source="wire")
    [match] = ruleset.evaluate(article)
    assert match.title == "Armenia: R (wire)"
    assert match.text == "Yerevan;Moscow;"


def test_default_title_names_rule_and_entity(load_text: LoadText) -> None:
    ruleset = load_text(_rule({"any": ["$members"]}, entity="$members"))
    [match] = ruleset.evaluate(_article("Yerevan"))
    assert match.title == "R: Armenia"


def test_disabled_rule_does_not_fire_but_its_examples_run(load_text: LoadText) -> None:
    ruleset = load_text(
        _rule(
            {"any": ["Armenia"]}, enabled=False, examples=[{"text": "Armenia", "expect": "match"}]
        )
    )
    assert ruleset.evaluate(_article("Armenia")) == []
    assert [r.passed for r in ruleset.run_examples()] == [True]


def test_matches_are_sorted_by_rule_id_and_deterministic(load_text: LoadText) -> None:
    rules = [
        {"id": rid, "name": rid, "when": {"any": ["Armenia"]}} for rid in ("zeta", "alpha", "mid")
    ]
    ruleset = load_text(json.dumps({"rules": rules}))
    article = _article("Armenia")
    first = ruleset.evaluate(article)
    assert [m.rule_id for m in first] == ["alpha", "mid", "zeta"]
    assert ruleset.evaluate(article) == first


def test_policy_from_rule_keys(load_text: LoadText) -> None:
    ruleset = load_text(
        _rule(
            {"any": ["Armenia"]},
            dedup="12h",
            threshold={"sources": 3, "within": "7d"},
            escalate=[{"sources": 5, "severity": "critical"}],
        )
    )
    policy = ruleset.policy("r")
    assert policy.dedup_s == 12 * 3600
    assert policy.threshold is not None
    assert (policy.threshold.sources, policy.threshold.within_s) == (3, 7 * 86400)
    assert [(t.sources, t.severity) for t in policy.escalate] == [(5, "critical")]
    [match] = ruleset.evaluate(_article("Armenia"))
    assert match.policy == policy
    assert ruleset.policy("unknown-rule").dedup_s == 6 * 3600


def test_rule_version_follows_the_rule_and_its_lists(load_text: LoadText) -> None:
    base = load_text(_rule({"any": ["$bloc"]}))
    same = load_text(_rule({"any": ["$bloc"]}))
    assert base.rule("r").version == same.rule("r").version
    other_list = json.loads(_rule({"any": ["$bloc"]}))
    other_list["lists"]["absence"].append("walkout")  # a list the rule does not use
    assert load_text(json.dumps(other_list)).rule("r").version == base.rule("r").version
    used_list = json.loads(_rule({"any": ["$bloc"]}))
    used_list["lists"]["bloc"].append("CSTO bloc")
    changed = load_text(json.dumps(used_list))
    assert changed.rule("r").version != base.rule("r").version
    assert changed.version != base.version
