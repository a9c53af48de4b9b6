"""Benchmark: replay 100k articles from a real topic with bounded memory.

python bench/replay.py [--articles 100000] [--partitions 3] [--busy] [--bootstrap HOST:PORT]

Starts the embedded broker (unless ``--bootstrap`` is given), loads ``--articles`` articles
into a fresh topic over ``--partitions`` partitions (the BBC corpus from ../shared/corpus/,
cycled with unique ids, 40 outlets and one article every 6 simulated seconds; synthetic text
when the corpus is absent; every 1,000th record is deliberately invalid), then replays the
whole topic through the shipped rules in a *separate process*, so the figures are the
replay's alone: resident memory (RSS) before reading and at checkpoints, throughput, and
what the replay found. RSS must level off: reading is streamed (each partition buffers at
most 500 records and leaves the fetch assignment when full) and the throw-away alert state
is swept every 1,000 articles.

The shipped packs almost never fire on the corpus, so ``--busy`` adds a rule that fires on
any state named near a common verb: thousands of matches and alerts then go through the
replay's alert state (dedup, stories, windows on replayed time) and its emitted-id set.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "bbc-news-2225.jsonl"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
STEP_MS = 6_000
CHECKPOINTS = (1_000, 10_000, 50_000, 100_000, 200_000, 500_000)
BUSY_RULE = """\
rules:
  - id: bench-state-says
    name: A state is named near a statement (benchmark only)
    severity: low
    entity: $states
    dedup: 1h
    when:
      near: [$states, [said, says, announced]]
      within: 12
    alert:
      title: "{{ entity }} in the news"
"""


def rss_mib() -> float:
    """Resident set size now (Linux), else the peak the kernel reports."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def texts() -> list[tuple[str, str]]:
    """(title, body) pairs: the corpus if present, else generated words."""
    if CORPUS.exists():
        with CORPUS.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        return [(row["title"], row["body"]) for row in rows]
    print(f"corpus not found at {CORPUS}: using synthetic text", file=sys.stderr)
    rnd = random.Random(3)
    words = [f"w{i}" for i in range(5_000)]
    return [(" ".join(rnd.choices(words, k=8)), " ".join(rnd.choices(words, k=350)))
            for _ in range(2_000)]


def records(count: int) -> Iterator[tuple[bytes, bytes, int]]:
    """(key, value, timestamp ms) for ``count`` articles."""
    pool = texts()
    for i, (title, body) in zip(range(count), itertools.cycle(pool), strict=False):
        ident = f"bench-{i:07d}"
        if i % 1000 == 999:
            yield ident.encode(), b'{"id": "' + ident.encode() + b'", "title": 1}', T0_MS
            continue
        value = json.dumps({
            "id": ident, "title": title, "body": body, "source": f"Outlet {i % 40}",
            "url": f"https://outlet{i % 40}.example/{ident}",
        }).encode()
        yield ident.encode(), value, T0_MS + i * STEP_MS


def load(bootstrap: str, topic: str, count: int, partitions: int) -> float:
    from kafka import KafkaProducer

    from stream.broker import TopicSpec, ensure_topics

    ensure_topics(bootstrap, [TopicSpec(name=topic, partitions=partitions)])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20,
                             batch_size=256 * 1024, compression_type=None)
    started = time.monotonic()
    for n, (key, value, stamp) in enumerate(records(count)):
        producer.send(topic, key=key, value=value, partition=n % partitions, timestamp_ms=stamp)
    producer.flush()
    producer.close()
    return time.monotonic() - started


def measure(bootstrap: str, topic: str, busy: bool) -> None:
    """The replay itself (child process): one JSON line per checkpoint, then a summary."""
    import tempfile

    from stream.engine import load_rules
    from stream.replay import Replayer, TopicRange, TopicReader

    paths = [REPO / "rules"]
    if busy:
        extra = Path(tempfile.mkdtemp(prefix="bench-replay-")) / "busy.yml"
        extra.write_text(BUSY_RULE)
        paths.append(extra)
    ruleset = load_rules(paths)
    print(json.dumps({"at": 0, "rss_mib": round(rss_mib(), 1)}), flush=True)
    reader = TopicReader(bootstrap, topic, TopicRange(from_beginning=True))
    replayer = Replayer(ruleset)
    stats = replayer.stats
    marks = iter(CHECKPOINTS)
    mark = next(marks)
    started = time.monotonic()
    peak = 0.0
    alerts = 0
    for record in reader:
        for alert in replayer.step(record):
            alerts += 1
            del alert
        seen = stats.articles + stats.invalid
        if seen == mark:
            now = rss_mib()
            peak = max(peak, now)
            print(json.dumps({"at": seen, "rss_mib": round(now, 1),
                              "seconds": round(time.monotonic() - started, 1)}), flush=True)
            mark = next(marks, -1)
    elapsed = time.monotonic() - started
    print(json.dumps({
        "articles": stats.articles, "invalid": stats.invalid, "matches": stats.matches,
        "alerts": alerts, "seconds": round(elapsed, 1),
        "per_second": round((stats.articles + stats.invalid) / elapsed),
        "rss_mib": round(rss_mib(), 1), "peak_rss_mib": round(max(peak, rss_mib()), 1),
        "partitions": [(p.partition, p.read) for p in reader.plans],
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--bootstrap", help="use this Kafka instead of the embedded broker")
    parser.add_argument("--busy", action="store_true", help="add a rule that fires often")
    parser.add_argument("--measure", nargs=2, metavar=("BOOTSTRAP", "TOPIC"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure, busy=args.busy)
        return
    from stream.broker import EmbeddedBroker

    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        broker = EmbeddedBroker()
        broker.start()
        bootstrap = broker.bootstrap
    try:
        topic = f"bench-replay-{uuid.uuid4().hex[:8]}"
        seconds = load(bootstrap, topic, args.articles, args.partitions)
        print(f"loaded {args.articles} articles into {topic} ({args.partitions} partitions) "
              f"in {seconds:.1f}s", flush=True)
        busy = ["--busy"] if args.busy else []
        subprocess.run([sys.executable, __file__, "--measure", bootstrap, topic, *busy],
                       check=True)
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
