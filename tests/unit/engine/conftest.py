"""Helpers to build small rule sets from YAML text in a temporary directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from engine_helpers import LoadText

from stream.engine import RuleSet, load_rules


@pytest.fixture
def load_text(tmp_path: Path) -> LoadText:
    """Write YAML text (dedented) to files and load them as one rule set."""

    def load(*texts: str) -> RuleSet:
        paths = []
        for index, text in enumerate(texts):
            path = tmp_path / f"rules{index}.yml"
            path.write_text(textwrap.dedent(text), encoding="utf-8")
            paths.append(path)
        return load_rules(paths)

    return load
