"""Rule-engine throughput: articles per second for 10, 100 and 1,000 rules on real news.

Run from the repository root:

    .venv/bin/python bench/engine.py [--corpus ../shared/corpus/bbc-news-2225.jsonl]

Rules are generated deterministically (seeded) from the corpus vocabulary, so they have the
shape of real rules (an `any` of topic words and a `near` of two word groups, with prefixes,
phrases and a few `re:` terms) and their terms really occur in the text. Each size is run
through the engine and through a naive baseline in the same process: one compiled regular
expression per term, rules checked one by one, which is what a straightforward implementation
does. Both run on one core; the ratio is engine / naive.

The shipped packs are measured three ways (and their early-reject gate alone, with its
hyperscan prefilter and with RE2 alone): ``evaluate`` as the worker calls it, the same
without the early-reject gate (``gate=False``, the path every article took before the gate),
and parsing each JSON line into an ``Article`` plus ``evaluate``, which is the engine's whole
share of a worker's per-article cost.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stream.engine import RuleSet, load_rules  # noqa: E402
from stream.engine.gate import KeyGate  # noqa: E402
from stream.engine.text import tokenize  # noqa: E402
from stream.models import Article  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "bbc-news-2225.jsonl"
Item = TypeVar("Item")


def load_corpus(path: Path) -> list[Article]:
    with path.open(encoding="utf-8") as stream:
        return [Article.model_validate_json(line) for line in stream if line.strip()]


_OPENING_QUOTE = re.compile(r'(^|\s)"')


def typeset(text: str) -> str:
    """The text as most news sites print it: curly quotes and apostrophes, en dashes."""
    text = _OPENING_QUOTE.sub("\\1\u201c", text).replace('"', "\u201d").replace("'", "\u2019")
    return text.replace(" - ", " \u2013 ")


def vocabulary(articles: Sequence[Article]) -> list[str]:
    """Words by falling frequency, skipping the most common (they make useless rule terms)."""
    counts: collections.Counter[str] = collections.Counter()
    for article in articles:
        counts.update(t for t in tokenize(article.body) if t.isalpha() and len(t) > 3)
    ranked = [word for word, _ in counts.most_common()]
    return ranked[150:6000]


def make_rules(count: int, words: Sequence[str], seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rules = []
    for index in range(count):
        topic = rng.sample(words, 3)
        left = rng.sample(words, 2)
        right = [w[:5] + "*" if len(w) > 6 else w for w in rng.sample(words, 2)]
        if index % 10 == 0:
            topic.append(" ".join(rng.sample(words, 2)))  # a phrase
        if index % 25 == 0:
            topic.append(f"re:\\b{rng.choice(words)}(s|es)?\\b")
        rules.append({
            "id": f"bench-{index:04d}",
            "name": f"Bench rule {index}",
            "when": {"all": [{"any": topic}, {"near": [left, right], "within": 10}]},
        })
    return rules


class NaiveRule:
    """One rule as a straightforward implementation would run it: a regex per term."""

    def __init__(self, rule: dict[str, Any]) -> None:
        any_terms, near = rule["when"]["all"]
        self.topic = [self._compile(t) for t in any_terms["any"]]
        self.left = [self._compile(t) for t in near["near"][0]]
        self.right = [self._compile(t) for t in near["near"][1]]
        self.within_chars = near["within"] * 8  # about 8 characters per token

    @staticmethod
    def _compile(term: str) -> re.Pattern[str]:
        if term.startswith("re:"):
            return re.compile(term[3:], re.IGNORECASE)
        words = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "")
                 for w in term.split()]
        return re.compile(r"\b" + r"[\s-]+".join(words) + r"\b", re.IGNORECASE)

    def matches(self, text: str) -> bool:
        if not any(p.search(text) for p in self.topic):
            return False
        lefts = [m.start() for p in self.left for m in p.finditer(text)]
        if not lefts:
            return False
        rights = [m.start() for p in self.right for m in p.finditer(text)]
        return any(abs(a - b) <= self.within_chars for a in lefts for b in rights)


def engine_runner(ruleset: RuleSet) -> Callable[[Article], int]:
    return lambda article: len(ruleset.evaluate(article))


def naive_runner(rules: Sequence[NaiveRule]) -> Callable[[Article], int]:
    return lambda article: sum(r.matches(article.title + "\n" + article.body) for r in rules)


def rate(
    run: Callable[[Item], int], articles: Sequence[Item], budget_s: float
) -> tuple[float, float]:
    """Articles per CPU-second over whole passes lasting ``budget_s``; matches per article.

    CPU time of this single-threaded process measures one core's throughput, and other
    processes on a busy machine do not distort it.
    """
    done = 0
    fired = 0
    started = time.process_time()
    while True:
        for article in articles:
            fired += run(article)
        done += len(articles)
        elapsed = time.process_time() - started
        if elapsed >= budget_s:
            return done / elapsed, fired / done


def gate_costs(ruleset: RuleSet, articles: Sequence[Article], budget_s: float) -> dict[str, float]:
    """Microseconds per article of the early reject alone, as built and with RE2 alone.

    The RE2-only gate is what a platform without hyperscan runs, and what every platform ran
    before the prefilter; both are timed in the same process, one after the other.
    """
    gate = ruleset.gate
    if gate is None:
        return {}
    costs = {}
    for name, each in (("gate", gate), ("gate_re2_only", KeyGate(gate.keys, prefilter=False))):
        per_s, admitted = rate(
            lambda article, g=each: int(bool(g.admits_text(article.title, article.body))),
            articles,
            budget_s,
        )
        costs[f"{name}_us_per_article"] = round(1e6 / per_s, 2)
        costs[f"{name}_admitted_share"] = round(admitted, 4)
    print(f"early reject alone: {costs['gate_us_per_article']} us/article "
          f"(prefiltered: {gate.prefiltered}), RE2 alone {costs['gate_re2_only_us_per_article']}"
          f" us/article; {costs['gate_admitted_share']:.1%} of articles admitted", flush=True)
    return costs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--naive-articles", type=int, default=150,
                        help="articles for the (slow) naive baseline")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(f"corpus not found at {args.corpus}; pass --corpus", file=sys.stderr)
        return 2
    articles = load_corpus(args.corpus)
    words = vocabulary(articles)
    sample = articles[:: max(1, len(articles) // args.naive_articles)][: args.naive_articles]
    results = []
    print(f"{len(articles)} articles, mean {sum(len(a.body) for a in articles) // len(articles)}"
          " characters of body")
    print(f"{'rules':>6} {'terms':>6} {'engine art/s':>13} {'naive art/s':>12} {'ratio':>7} "
          f"{'matches/article':>16} {'load s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            rules = make_rules(size, words)
            path = Path(tmp) / f"bench-{size}.yml"
            path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
            started = time.perf_counter()
            ruleset = load_rules([path])
            load_s = time.perf_counter() - started
            engine_rate, fired = rate(engine_runner(ruleset), articles, args.budget)
            naive_rate, _ = rate(
                naive_runner([NaiveRule(r) for r in rules]), sample, min(args.budget, 10.0)
            )
            row = {
                "rules": size,
                "terms": ruleset.term_count,
                "engine_articles_per_s": round(engine_rate),
                "naive_articles_per_s": round(naive_rate, 1),
                "ratio": round(engine_rate / naive_rate, 1),
                "matches_per_article": round(fired, 3),
                "load_s": round(load_s, 2),
            }
            results.append(row)
            print(f"{size:>6} {row['terms']:>6} {row['engine_articles_per_s']:>13} "
                  f"{row['naive_articles_per_s']:>12} {row['ratio']:>6}x "
                  f"{row['matches_per_article']:>16} {row['load_s']:>7}", flush=True)
    shipped = load_rules([REPO / "rules"])
    shipped_rate, shipped_fired = rate(engine_runner(shipped), articles, args.budget)
    ungated_rate, _ = rate(
        lambda article: len(shipped.evaluate(article, gate=False)), articles, args.budget
    )
    lines = [line for line in args.corpus.read_bytes().splitlines() if line.strip()]
    parse_rate, _ = rate(
        lambda line: len(shipped.evaluate(Article.model_validate_json(line))), lines, args.budget
    )
    typeset_articles = [
        article.model_copy(update={"title": typeset(article.title), "body": typeset(article.body)})
        for article in articles
    ]
    typeset_rate, _ = rate(engine_runner(shipped), typeset_articles, args.budget)
    print(f"shipped packs: {len(shipped.rules)} rules, {round(shipped_rate)} articles/s "
          f"({round(ungated_rate)} without the gate), {shipped_fired:.4f} matches/article; "
          f"parse + evaluate {round(parse_rate)} articles/s; typeset (curly quotes, dashes) "
          f"{round(typeset_rate)} articles/s")
    results.append({"rules": "shipped", "count": len(shipped.rules),
                    "engine_articles_per_s": round(shipped_rate),
                    "ungated_articles_per_s": round(ungated_rate),
                    "parse_and_engine_articles_per_s": round(parse_rate),
                    "typeset_articles_per_s": round(typeset_rate),
                    **gate_costs(shipped, articles, args.budget)})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
