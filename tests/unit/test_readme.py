"""The README stays true: its settings table is generated from the code, its commands exist."""

from __future__ import annotations

from pathlib import Path

from stream.settings import settings_table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_settings_table_matches_the_code() -> None:
    assert settings_table() in README, "regenerate the table with stream.settings.settings_table()"


def test_quick_start_names_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1]
    assert quick.index("make run") < quick.index("make test")


def test_readme_rule_example_behaves_as_it_says(tmp_path: Path) -> None:
    """The README's rule, with the shipped CSTO lists, passes its own inline examples."""
    import io

    from ruamel.yaml import YAML

    from stream.engine import load_rules

    repo = Path(__file__).resolve().parents[2]
    block = README.split("## A rule", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    yaml = YAML()
    shipped = yaml.load((repo / "rules" / "alliances" / "csto.yml").read_text())
    lists = io.StringIO()
    yaml.dump({"lists": shipped["lists"]}, lists)
    (tmp_path / "lists.yml").write_text(lists.getvalue())
    (tmp_path / "rule.yml").write_text(block)
    results = load_rules([tmp_path]).run_examples()
    assert len(results) == 2
    assert all(r.passed for r in results), [r.reason for r in results]
