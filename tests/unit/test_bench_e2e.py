"""The end-to-end benchmark's summary of rounds: medians, and ratios taken within rounds."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "e2e.py"


@pytest.fixture(scope="module")
def e2e() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_e2e", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_e2e"] = module
    spec.loader.exec_module(module)
    return module


def test_rates_are_medians_and_ratios_are_taken_within_rounds(e2e: ModuleType) -> None:
    rounds = [
        {"ceiling": 100.0, "loop": 50.0, "one": 40.0, "two": 80.0},
        {"ceiling": 200.0, "loop": 60.0, "one": 60.0, "two": 90.0},
        {"ceiling": 80.0, "loop": 40.0, "one": 44.0, "two": 70.0},
    ]
    out = e2e.summarize(rounds)
    assert (out["ceiling"], out["loop"], out["one"], out["two"]) == (100.0, 50.0, 44.0, 80.0)
    # Per round (b)/(a) is 0.4, 0.3 and 0.55: the median is 0.4, where the medians' own
    # quotient would say 0.44.
    assert out["one/ceiling"] == pytest.approx(0.4)
    assert out["loop/ceiling"] == pytest.approx(0.5)
    assert out["two/one"] == pytest.approx(70 / 44)  # of 2.0, 1.5 and 1.59
    assert out["rounds"] == rounds


def test_parts_left_out_are_left_out_of_the_summary(e2e: ModuleType) -> None:
    out = e2e.summarize([{"ceiling": 100.0, "one": 45.0}])
    assert out["one/ceiling"] == pytest.approx(0.45)
    assert "loop" not in out and "two/one" not in out and "loop/ceiling" not in out


@pytest.mark.parametrize("text", ["0", "-2"])
def test_rounds_must_be_positive(e2e: ModuleType, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        e2e.positive(text)
    assert e2e.positive("3") == 3


def test_the_table_lists_each_round_under_the_medians(e2e: ModuleType) -> None:
    rounds = [{"ceiling": 100_000.0, "one": 52_000.0}, {"ceiling": 90_000.0, "one": 44_000.0}]
    args = argparse.Namespace(latency_count=156, rate=10.0, rounds=2)
    text = e2e.table({"embedded": e2e.summarize(rounds)}, 300_000, args)
    row = next(line for line in text.splitlines() if line.startswith("| embedded |"))
    # (b)/(a) is 0.52 and 0.49 in the rounds: their median, 0.50, not 48,000 / 95,000.
    assert row.split(" | ")[1:7] == ["95,000", "-", "-", "48,000", "0.50", "-"]
    assert "- embedded 1: ceiling 100,000, one 52,000" in text
    assert "- embedded 2: ceiling 90,000, one 44,000" in text
    assert "N = 300,000 articles; latency over 156 alerting articles at 10/s." in text
