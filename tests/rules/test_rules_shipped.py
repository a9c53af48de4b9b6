"""Every shipped rule's inline examples pass, and the CSTO rules catch the seed article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream.engine import RuleSet, load_rules
from stream.models import Article

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
SEED = REPO.parent / "shared" / "seeds" / "kremlin-regrets-armenia-absence.json"


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rules([RULES])


def _example_ids() -> list[str]:
    ruleset = load_rules([RULES])
    return [f"{e.rule_id}#{e.index}" for e in ruleset.examples]


@pytest.mark.parametrize("example_id", _example_ids())
def test_every_inline_example_passes(shipped: RuleSet, example_id: str) -> None:
    rule_id, _, index = example_id.partition("#")
    [result] = [
        r for r in shipped.run_examples([rule_id]) if r.example.index == int(index)
    ]
    assert result.passed, f"{result.example.file}:{result.example.line}: {result.reason}"


def test_csto_rules_have_examples(shipped: RuleSet) -> None:
    ids = {e.rule_id for e in shipped.examples}
    assert {"csto-member-skips-summit", "csto-member-departure-risk"} <= ids


def test_seed_article_fires_both_csto_rules_for_armenia(shipped: RuleSet) -> None:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    article = Article.model_validate(json.loads(SEED.read_text(encoding="utf-8")))
    matches = {m.rule_id: m for m in shipped.evaluate(article)}
    for rule_id in ("csto-member-skips-summit", "csto-member-departure-risk"):
        assert rule_id in matches, f"{rule_id} did not fire on the seed article"
        assert matches[rule_id].entity == "Armenia"
        assert matches[rule_id].evidence, "an alert must carry evidence"
    assert matches["csto-member-skips-summit"].title == "Armenia skips a CSTO summit"
