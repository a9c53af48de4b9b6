"""Generic rules: for_each with inline items and tables, derived lists, global lists."""

from __future__ import annotations

from engine_helpers import LoadText

from stream.models import Article

LISTS = """
as_of: 2025-06-01
lists:
  states:
    Armenia: [Armenian, Pashinyan]
    Belarus: [Belarusian, Minsk]
    France: [French, Paris]
    Germany: [German, Berlin]
  csto_members: {from: states, only: [Armenia, Belarus]}
  nato_members: {from: states, only: [France, Germany]}
  csto: [CSTO]
  nato: [NATO]
  absence: [skip*, boycott*]
  absence_plus: [$absence, "stay* away"]
tables:
  blocs:
    - {id: csto, name: CSTO, members: csto_members, names: csto}
    - {id: nato, name: NATO, members: nato_members, names: nato}
"""

GENERIC = """
rules:
  - id: "${org.id}-member-skips-summit"
    for_each: {org: "@blocs"}
    name: "${org.name} member state skips a summit"
    entity: $${org.members}
    tags: ["${org.id}"]
    when:
      all:
        - any: ["$${org.names}"]
        - near: ["$${org.members}", $absence_plus]
    alert:
      title: "{{ entity }} skips the ${org.name} summit"
    examples:
      - text: "Pashinyan will skip the ${org.name} summit."
        expect: {entity: Armenia}
        for: csto
      - text: "Berlin may stay away from the ${org.name} meeting."
        expect: {entity: Germany}
        for: nato
      - text: "Berlin may stay away from the ${org.name} meeting."
        expect: none
        for: csto
      - text: "The ${org.name} summit opened on time."
        expect: none
"""


def test_for_each_expands_one_rule_per_table_item(load_text: LoadText) -> None:
    ruleset = load_text(LISTS, GENERIC)  # lists and rules in different files: lists are global
    assert [r.id for r in ruleset.rules] == ["csto-member-skips-summit", "nato-member-skips-summit"]
    nato = ruleset.rule("nato-member-skips-summit")
    assert nato.name == "NATO member state skips a summit"
    assert nato.entity_list == "nato_members"
    assert nato.tags == ("nato",)
    assert nato.version != ruleset.rule("csto-member-skips-summit").version


def test_examples_run_per_expansion_and_respect_for(load_text: LoadText) -> None:
    ruleset = load_text(LISTS, GENERIC)
    results = ruleset.run_examples()
    per_rule = sorted((r.example.rule_id, r.example.index) for r in results)
    assert per_rule == [
        ("csto-member-skips-summit", 0),
        ("csto-member-skips-summit", 2),
        ("csto-member-skips-summit", 3),
        ("nato-member-skips-summit", 1),
        ("nato-member-skips-summit", 3),
    ]
    assert all(r.passed for r in results), [r.reason for r in results if not r.passed]


def test_jinja_blocks_are_left_for_alert_time(load_text: LoadText) -> None:
    ruleset = load_text(LISTS, GENERIC)
    article = Article(id="x", title="", body="French ministers boycott the NATO summit.")
    [match] = ruleset.evaluate(article)
    assert match.rule_id == "nato-member-skips-summit"
    assert match.title == "France skips the NATO summit"


def test_derived_list_takes_aliases_of_picked_entries_only(load_text: LoadText) -> None:
    ruleset = load_text(LISTS, GENERIC)
    article = Article(id="y", title="", body="Minsk and Paris skip the NATO summit.")
    [match] = ruleset.evaluate(article)  # Minsk is CSTO's: the NATO rule picks France
    assert match.entity == "France"


def test_inline_items_and_several_variables(load_text: LoadText) -> None:
    text = """
    rules:
      - id: "${org.id}-${verb.id}"
        for_each:
          org: [{id: csto, name: CSTO}, {id: nato, name: NATO}]
          verb: [{id: skip, word: "skip*"}, {id: quit, word: "quit*"}]
        name: "${org.name} ${verb.id}"
        when:
          all: ["${org.name}", "${verb.word}"]
    """
    ruleset = load_text(text)
    assert [r.id for r in ruleset.rules] == ["csto-quit", "csto-skip", "nato-quit", "nato-skip"]
    matches = ruleset.evaluate(Article(id="z", title="", body="They quit NATO."))
    assert [m.rule_id for m in matches] == ["nato-quit"]
    assert ruleset.as_of == {}
