"""How the end-to-end benchmark (``bench/e2e.py``) sums up and prints its rounds."""

from __future__ import annotations

import argparse
import statistics
from typing import Any

__all__ = ["positive", "summarize", "table"]


def summarize(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """Each rate's median over the rounds, and each ratio as the median of the rounds' own.

    The ceiling moves between runs on a shared machine; a ratio taken within a round compares
    measurements minutes apart, which is fairer than one median divided by another.
    """
    out: dict[str, Any] = {"rounds": rounds}
    for name in ("ceiling", "loop", "one", "two"):
        values = [rates[name] for rates in rounds if name in rates]
        if values:
            out[name] = statistics.median(values)
    pairs = {"loop": "ceiling", "one": "ceiling", "two": "one"}
    for name, base in pairs.items():
        ratios = [rates[name] / rates[base] for rates in rounds if name in rates and base in rates]
        if ratios:
            out[f"{name}/{base}"] = statistics.median(ratios)
    return out


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else spec.format(value)


def table(results: dict[str, dict[str, Any]], count: int, args: argparse.Namespace) -> str:
    """The Markdown table of every broker's figures, and the rounds under it."""
    rows = [
        "| broker | (a) raw consume, articles/s | (a') + validate, evaluate | (a')/(a) "
        "| (b) 1 worker, articles/s | (b)/(a) "
        "| 2 workers, articles/s | speed-up | (c) p50 | (c) p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, r in results.items():
        lat = r.get("latency")
        rows.append(
            f"| {kind} | {_fmt(r.get('ceiling'), '{:,.0f}')} | {_fmt(r.get('loop'), '{:,.0f}')} "
            f"| {_fmt(r.get('loop/ceiling'), '{:.2f}')} | {_fmt(r.get('one'), '{:,.0f}')} "
            f"| {_fmt(r.get('one/ceiling'), '{:.2f}')} | {_fmt(r.get('two'), '{:,.0f}')} "
            f"| {_fmt(r.get('two/one'), '{:.2f}x')} "
            f"| {_fmt(lat and lat['p50'] * 1000, '{:.0f} ms')} "
            f"| {_fmt(lat and lat['p99'] * 1000, '{:.0f} ms')} |"
        )
    rows.append("")
    rows.append(f"N = {count:,} articles; latency over {args.latency_count} alerting articles "
                f"at {args.rate:g}/s.")
    if args.rounds > 1:
        rows.append(f"Medians of {args.rounds} rounds taking turns; each ratio is the median "
                    "of the rounds' own ratios. Per round:")
        for kind, r in results.items():
            for number, rates in enumerate(r["rounds"], 1):
                figures = ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())
                rows.append(f"- {kind} {number}: {figures}")
    return "\n".join(rows)
