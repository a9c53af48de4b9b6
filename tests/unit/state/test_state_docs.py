"""docs/state.md: its runnable example runs, and its tables match the code's constants."""

from __future__ import annotations

import re
from pathlib import Path

from stream.state.decide import DEFAULT_STORY_MEMORY_S, MAX_STORY_SOURCES
from stream.state.stories import DEFAULT_NUM_PERM, DEFAULT_SIMILARITY, lsh_params
from stream.state.windows import MAX_SOURCES

DOC = Path(__file__).resolve().parents[3] / "docs" / "state.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_dry_run_example_runs() -> None:
    runnable = [block for block in _python_blocks() if "assert " in block]
    assert len(runnable) == 1
    exec(compile(runnable[0], str(DOC), "exec"), {"__name__": "docs_state_example"})


def test_documented_parameters_are_the_code_defaults() -> None:
    text = DOC.read_text()
    bands, rows = lsh_params(DEFAULT_SIMILARITY, DEFAULT_NUM_PERM)
    assert f"{bands} bands of {rows} rows" in text
    assert f"at least **{DEFAULT_SIMILARITY}**" in text
    assert f"{DEFAULT_NUM_PERM} permutations" in text
    assert f"story_memory_s={int(DEFAULT_STORY_MEMORY_S)}" in text
    assert f"up to {MAX_STORY_SOURCES}" in text
    assert f"up to {MAX_SOURCES:,}" in text
