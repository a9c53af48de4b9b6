"""Alert title and text templates: Jinja2 in a sandbox, checked when rules load.

Rule files are data written by analysts, so templates run in Jinja's sandbox (no attribute
access to Python internals) and may only use the documented variables. Syntax errors and
unknown variables are load-time Problems; a failure while rendering never stops the stream,
it falls back to a plain title built from the rule name and entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["TEMPLATE_VARIABLES", "Template", "TemplateProblem", "compile_template"]

TEMPLATE_VARIABLES = frozenset({"entity", "rule", "article", "evidence"})

_ENV = ImmutableSandboxedEnvironment(
    autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False
)


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """Why a template was rejected, and the line inside the template (1-based)."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template that renders to text, or ``None`` on failure.

    Checking (parsing) happens at load; compiling to Python code waits for the first render,
    because most of hundreds of generic-rule templates never fire and compiling is the slow
    part of a reload.
    """

    source: str

    def render(self, context: Mapping[str, Any]) -> str | None:
        """Rendered text, or None when the template fails on this article."""
        try:
            return str(_compiled(self.source).render(**context)).strip()
        except Exception:  # any template failure must not stop matching
            return None


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template | TemplateProblem:
    """Check one template; syntax errors and unknown variables are reported with a fix."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateProblem(exc.lineno or 1, f"bad template: {exc.message}")
    unknown = sorted(meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES)
    if unknown:
        names = ", ".join(sorted(TEMPLATE_VARIABLES))
        return TemplateProblem(
            1, f"bad template: unknown variable {', '.join(unknown)}; use one of {names}"
        )
    return Template(source)
