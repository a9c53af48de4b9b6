"""The rule engine: YAML rules in, deterministic matches with evidence out.

Pure by design: no broker, network or worker imports, so it is unit-testable and the same
code runs in the worker, the ``newsalert match`` command and the benchmarks.

    ruleset = load_rules([Path("rules")])     # raises RuleError with every problem
    matches = ruleset.evaluate(article)       # list[Match], sorted by rule id
"""

from __future__ import annotations

from stream.engine.evaluate import CompiledRule
from stream.engine.loader import load_rules
from stream.engine.ruleset import CompiledExample, ExampleResult, RuleSet

__all__ = ["CompiledExample", "CompiledRule", "ExampleResult", "RuleSet", "load_rules"]
