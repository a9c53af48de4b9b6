"""Benchmarks of the alert state: memory under a long stream, and story-clustering quality.

python bench/state.py memory [--articles 200000]
    Feeds synthetic articles (stories with several copies, 60 outlets, 40 entities, two
    rules with different windows) through ``AlertState`` on a plain dict, one article
    every 30 simulated seconds, sweeping every 1,000 articles. Prints the process RSS, the
    Python heap's allocated blocks and the live keys at checkpoints: they must level off
    once the stream is longer than the longest window (two days of story memory = 5,760
    articles).

python bench/state.py clusters
    Reads the BBC corpus (../shared/corpus/ from the repository root) and reports how many
    article pairs reach each estimated similarity, how similar light rewrites stay, and how
    many articles the story index joins, so the documented threshold can be checked
    against real text.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stream.models import Article, EscalationTier, Match, RulePolicy, Threshold
from stream.state import AlertState, StoryIndex, TTLStore
from stream.state.stories import estimate_similarity, signature

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "bbc-news-2225.jsonl"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP_S = 30.0
CHECKPOINTS = (10_000, 50_000, 100_000, 200_000)


def rss_mib() -> float:
    """Resident set size now (Linux), else the peak the kernel reports."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rules() -> list[Match]:
    quick = RulePolicy(dedup_s=6 * 3600)
    slow = RulePolicy(
        dedup_s=12 * 3600,
        threshold=Threshold(sources=3, within_s=86_400),
        escalate=(EscalationTier(sources=5, severity="critical"),),
    )
    return [
        Match(
            rule_id=rule_id,
            rule_name=rule_id,
            rule_version="1",
            severity="medium",
            entity=None,
            title=rule_id,
            policy=policy,
        )
        for rule_id, policy in (("summit", quick), ("departure-risk", slow))
    ]


def synthetic(count: int, seed: int = 7) -> Iterator[Article]:
    """Stories of 120 random words, each published 1-6 times by random outlets."""
    rnd = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    produced = 0
    for story in itertools.count():
        words = " ".join(rnd.choices(vocabulary, k=120))
        for copy in range(rnd.randint(1, 6)):
            if produced == count:
                return
            produced += 1
            outlet = f"outlet-{rnd.randrange(60)}"
            yield Article(
                id=f"a-{story}-{copy}",
                title=f"headline {story} {copy}",
                body=f"{words} filed by {outlet} desk {copy}",
                source=outlet,
                url=f"https://{outlet}.example/{story}/{copy}?utm_source=feed",
            )


def memory(articles: int) -> None:
    store: dict[str, object] = {}
    state = AlertState(store)
    rules = _rules()
    entities = [f"entity-{i}" for i in range(40)]
    rnd = random.Random(11)
    alerts = 0
    started = time.perf_counter()
    header = ("articles", "RSS MiB", "heap blocks", "live keys", "alerts", "stream days")
    print("{:>9} {:>8} {:>11} {:>10} {:>8} {:>11}".format(*header))
    print(f"{0:>9} {rss_mib():>8.1f} {sys.getallocatedblocks():>11} {0:>10} {0:>8} {0:>11.1f}")
    for n, article in enumerate(synthetic(articles), start=1):
        now = T0 + timedelta(seconds=n * STEP_S)
        entity = rnd.choice(entities)
        for rule in rules:
            alerts += len(state.decide(rule.model_copy(update={"entity": entity}), article, now))
        if n % 1_000 == 0:
            state.sweep(now)
        if n in CHECKPOINTS or n == articles:
            days = n * STEP_S / 86_400
            blocks = sys.getallocatedblocks()
            print(
                f"{n:>9} {rss_mib():>8.1f} {blocks:>11} {len(store):>10} {alerts:>8} {days:>11.1f}"
            )
    elapsed = time.perf_counter() - started
    print(f"{articles * len(rules) / elapsed:,.0f} decisions/s over {elapsed:.1f}s")


def clusters() -> None:
    if not CORPUS.exists():
        print(f"corpus not found at {CORPUS}: nothing to measure", file=sys.stderr)
        raise SystemExit(0)
    articles = [Article(**json.loads(line)) for line in CORPUS.read_text().splitlines()]
    sigs = [signature(a) for a in articles]
    buckets: Counter[float] = Counter()
    for i, j in itertools.combinations(range(len(sigs)), 2):
        score = estimate_similarity(sigs[i], sigs[j])
        if score >= 0.2:
            buckets[min(0.9, int(score * 10) / 10)] += 1
    print("estimated similarity  pairs")
    for low in sorted(buckets):
        label = f"{low:.1f}-{low + 0.1:.1f}" if low < 0.9 else "0.9-1.0"
        print(f"{label:>20}  {buckets[low]:>5}")
    rnd = random.Random(3)
    sample = rnd.sample(articles, 200)
    for share in (0.05, 0.10):
        scores = []
        for original in sample:
            tokens = original.body.split()
            edited = [t if rnd.random() >= share else f"edit{rnd.random()}" for t in tokens]
            rewrite = original.model_copy(update={"body": " ".join(edited)})
            scores.append(estimate_similarity(signature(original), signature(rewrite)))
        scores.sort()
        print(f"one word in {round(1 / share)} replaced: median similarity {scores[100]:.2f}")
    index = StoryIndex(TTLStore({}))
    stories = Counter(index.place("bench:", a, 0.0, 1.0).story_id for a in articles)
    joined = sum(size for size in stories.values() if size > 1)
    print(f"{len(articles)} articles -> {len(stories)} stories; {joined} articles share a story")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="mode", required=True)
    mem = sub.add_parser("memory", help="RSS and live keys under a long synthetic stream")
    mem.add_argument("--articles", type=int, default=200_000)
    sub.add_parser("clusters", help="similarity distribution and clustering on the corpus")
    args = parser.parse_args()
    if args.mode == "memory":
        memory(args.articles)
    else:
        clusters()


if __name__ == "__main__":
    main()
