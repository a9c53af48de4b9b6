"""End-to-end speed of the worker on real brokers: ceiling, sustained rate, scale-out, latency.

Run from the repository root (corpus at ``../shared/corpus/``):

    .venv/bin/python bench/e2e.py [--brokers embedded,apache] [--articles 10000]
        [--parts ceiling,loop,one,two,latency] [--rounds 1]

For each broker, in one run:

(a) ceiling: a plain aiokafka consumer reads N articles already on a 4-partition topic;
(a') engine loop: the same consumer reads them again, validating and evaluating each article
    with the shipped rules as the worker's ingest handler does, and doing nothing else;
(b) sustained: N corpus articles (cycled with new ids) are produced to a fresh 4-partition
    topic, then 1, then 2, real ``newsalert run`` workers (one consumer group) with the
    shipped rules read that backlog; the rate is taken from the workers'
    ``newsalert_articles_consumed`` counters over the steady part (every worker busy, 10% to
    90% of the backlog read);
(c) latency: articles that each raise one alert are produced one by one at a steady rate to a
    worker that delivers to a local webhook receiver; latency is receipt minus send time.

It prints one Markdown table per broker; docs/performance.md holds the figures and the
machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from e2e_report import positive, summarize, table  # noqa: E402

from stream.app import fetch_max_wait_ms, producer_batch_bytes, rebalance_timeout  # noqa: E402
from stream.broker import EmbeddedBroker, TopicSpec, ensure_topics  # noqa: E402
from stream.engine import load_rules  # noqa: E402
from stream.errors import ArticleError  # noqa: E402
from stream.ingest import ParsedBatch, evaluate_parsed, parse_fields  # noqa: E402
from stream.intake import IntakeTuning  # noqa: E402
from stream.models import Article  # noqa: E402
from stream.settings import Settings  # noqa: E402
from tests.support.alerting import alerting_articles, capacity, encode  # noqa: E402
from tests.support.scrape import parse  # noqa: E402
from tests.support.webhook_receiver import Received, WebhookReceiver  # noqa: E402
from tests.support.worker import WorkerProcess, unique_names  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "bbc-news-2225.jsonl"
PARTITIONS = 4
# Records per call of the ingest handler, as the worker's intake hands them over.
CHUNK = IntakeTuning(max_wait_ms=0, rebalance_timeout_s=0.0).chunk


def corpus_records(path: Path, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` corpus articles as Kafka records, cycling the corpus with fresh ids."""
    with path.open(encoding="utf-8") as stream:
        base = [Article.model_validate_json(line) for line in stream if line.strip()]
    out = []
    for i in range(count):
        article = base[i % len(base)]
        if i >= len(base):
            article = article.model_copy(update={"id": f"{article.id}~{i // len(base)}"})
        out.append(encode(article))
    return out


@contextlib.contextmanager
def broker_of(kind: str, workdir: Path) -> Iterator[Any]:
    if kind == "apache":
        from stream.broker.apache import ApacheKafka

        instance: Any = ApacheKafka(workdir=workdir / "kafka")
    else:
        instance = EmbeddedBroker(workdir=workdir)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    """Send everything as fast as the client batches it; returns the seconds it took."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = [await producer.send(topic, key=key, value=value) for key, value in records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_consume_rate(
    bootstrap: str, topic: str, count: int, handle: Callable[[list[bytes]], None] | None = None
) -> float:
    """(a) Records per second a bare aiokafka consumer reads: the ceiling of any worker.

    With ``handle``, each fetched batch's values are passed to it before the next fetch.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        started = time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if handle is None:  # the ceiling: count, touch nothing
                seen += sum(len(records) for records in batches.values())
            else:
                values = [record.value for records in batches.values() for record in records]
                seen += len(values)
                for start in range(0, len(values), CHUNK):
                    handle(values[start : start + CHUNK])
                    await asyncio.sleep(0)  # as the worker's intake does between chunks
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def engine_loop(rules: Path) -> Callable[[list[bytes]], None]:
    """(a') What every article costs the worker beyond the client: validate, then evaluate.

    The same calls the worker's ingest handler makes (``stream.agents``), without anything
    else a worker does (matches sent, offsets committed, Faust, metrics, web pages): the
    fastest a single-process worker built on aiokafka and these rules could go.
    """
    ruleset = load_rules([rules])

    def handle(values: list[bytes]) -> None:
        fields = []
        for value in values:
            try:
                fields.append(parse_fields(value))
            except ArticleError:
                continue
        evaluate_parsed(ruleset, ParsedBatch(fields))

    return handle


def broker_env(kind: str) -> dict[str, str]:
    """The settings ``newsalert run`` picks by itself when it starts the embedded broker: a
    worker given a bootstrap address cannot tell Tansu from Kafka, so the benchmark says so."""
    if kind != "embedded":
        return {}
    defaults = Settings()
    return {
        "NEWSALERT_FETCH_MAX_WAIT_MS": str(fetch_max_wait_ms(defaults, embedded=True)),
        "NEWSALERT_PRODUCER_BATCH_BYTES": str(producer_batch_bytes(defaults, embedded=True)),
        "NEWSALERT_REBALANCE_TIMEOUT_S": str(rebalance_timeout(defaults, embedded=True)),
    }


def _env(kind: str, names: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **names,
        **broker_env(kind),
        "NEWSALERT_PARTITIONS": str(PARTITIONS),
        "NEWSALERT_CONSOLE_ALERTS": "false",
        "NEWSALERT_LOG_LEVEL": "WARNING",
        **extra,
    }


async def worker_rate(
    kind: str, bootstrap: str, records: list[tuple[bytes, bytes]], workers: int, workdir: Path
) -> dict[str, float]:
    """(b) Articles per second ``workers`` workers of one group sustain with the shipped rules.

    Like the ceiling, the workers read a backlog already on the topic, so the benchmark's own
    producer does not compete with them for the CPU. The rate is taken over the steady part of
    the run: from the moment every worker is consuming (and at least 10% of the backlog is
    read) until 90% is read, from the workers' ``newsalert_articles_consumed`` counters.
    """
    names = unique_names("bench")
    topic = names["NEWSALERT_ARTICLES_TOPIC"]
    ensure_topics(bootstrap, [TopicSpec(name=topic, partitions=PARTITIONS)])
    count = len(records)
    send_s = await produce(bootstrap, topic, records)
    procs = [WorkerProcess(bootstrap, workdir, _env(kind, names)) for _ in range(workers)]
    samples: list[tuple[float, list[float]]] = []
    try:
        await asyncio.gather(*(asyncio.to_thread(proc.start) for proc in procs))
        deadline = time.monotonic() + 1800
        while True:
            counts = await asyncio.gather(*(asyncio.to_thread(_consumed, p) for p in procs))
            samples.append((time.perf_counter(), list(counts)))
            if sum(counts) >= count:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the workers did not consume every article in 30 minutes")
            await asyncio.sleep(0.2)  # each scrape costs the workers a little CPU
        shares = [c / count for c in samples[-1][1]]
    finally:
        for proc in procs:
            await asyncio.to_thread(proc.stop)
    return {**steady_rate(samples, count), "produce_s": send_s, "max_share": max(shares)}


def steady_rate(samples: list[tuple[float, list[float]]], count: int) -> dict[str, float]:
    """Consumed per second between "every worker busy and 10% read" and "90% read"."""
    busy = next(
        (
            sum(after)
            for (_, before), (_, after) in itertools.pairwise(samples)
            if all(b > a for a, b in zip(before, after, strict=True))
        ),
        None,
    )
    if busy is None or busy > 0.5 * count:
        raise RuntimeError("over half the backlog was read before every worker was busy; "
                           "pass a larger --articles")
    window = [(t, sum(c)) for t, c in samples if sum(c) >= max(busy, 0.1 * count)]
    (t_low, c_low) = window[0]
    (t_high, c_high) = next((t, c) for t, c in window if c >= 0.9 * count)
    return {"rate": (c_high - c_low) / (t_high - t_low), "seconds": t_high - t_low,
            "window": c_high - c_low}


def _consumed(worker: WorkerProcess) -> float:
    try:
        status, body = worker.get("/metrics")
    except OSError as exc:
        raise RuntimeError(f"a worker stopped answering ({exc}):\n{worker.log_tail(60)}") from exc
    if status != 200:
        return 0.0
    return parse(body.decode()).value("newsalert_articles_consumed_total") or 0.0


async def latency(
    kind: str, bootstrap: str, count: int, rate: float, workdir: Path
) -> dict[str, float]:
    """(c) Produce-to-webhook latency of alerting articles sent one by one at ``rate``/s."""
    names = unique_names("latency")
    topic = names["NEWSALERT_ARTICLES_TOPIC"]
    arrived: dict[str, float] = {}

    def on_receive(received: Received) -> None:
        arrived[received.payload["article"]["id"]] = time.time()

    async with WebhookReceiver(None, on_receive=on_receive) as hooks:
        env = _env(kind, names, NEWSALERT_WEBHOOK_URLS=json.dumps([hooks.url]))
        worker = WorkerProcess(bootstrap, workdir, env)
        await asyncio.to_thread(worker.start)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        await producer.start()
        sent: dict[str, float] = {}
        try:
            articles = alerting_articles(count, names["NEWSALERT_APP_ID"])
            tick = time.monotonic()
            for article in articles:
                key, value = encode(article)
                sent[article.id] = time.time()
                await producer.send_and_wait(topic, key=key, value=value)
                tick += 1.0 / rate
                await asyncio.sleep(max(0.0, tick - time.monotonic()))
            await hooks.wait_for(lambda: len(arrived) >= count, timeout=300)
        finally:
            await producer.stop()
            await asyncio.to_thread(worker.stop)
    waits = sorted(arrived[k] - sent[k] for k in sent)
    cuts = statistics.quantiles(waits, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98], "max": waits[-1], "n": len(waits)}


async def run_broker(kind: str, args: argparse.Namespace, records: list[Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-e2e-{kind}-") as tmp, \
            broker_of(kind, Path(tmp)) as broker:
        workdir = Path(tmp)
        parts = set(args.parts.split(","))
        out: dict[str, Any] = {}
        if parts & {"ceiling", "loop"}:
            ceiling_topic = f"bench-ceiling-{int(time.time())}"
            ensure_topics(broker.bootstrap, [TopicSpec(name=ceiling_topic, partitions=PARTITIONS)])
            await produce(broker.bootstrap, ceiling_topic, records)
        rounds: list[dict[str, float]] = []
        runs: list[dict[str, float]] = []
        for number in range(1, args.rounds + 1):
            tag = f"[{kind}]" if args.rounds == 1 else f"[{kind} {number}/{args.rounds}]"
            rates: dict[str, float] = {}
            if "ceiling" in parts:
                rates["ceiling"] = await raw_consume_rate(
                    broker.bootstrap, ceiling_topic, len(records)
                )
                print(f"{tag} (a) raw consume: {rates['ceiling']:,.0f} articles/s", flush=True)
            if "loop" in parts:
                rates["loop"] = await raw_consume_rate(
                    broker.bootstrap, ceiling_topic, len(records), engine_loop(REPO / "rules")
                )
                print(f"{tag} (a') consume, validate, evaluate: {rates['loop']:,.0f} "
                      "articles/s", flush=True)
            for name, workers in (("one", 1), ("two", 2)):
                if name in parts:
                    found = await worker_rate(kind, broker.bootstrap, records, workers, workdir)
                    rates[name] = found["rate"]
                    runs.append({"workers": workers, **found})
                    print(f"{tag} (b) {workers} worker(s): {rates[name]:,.0f} articles/s "
                          f"(largest share {found['max_share']:.0%})", flush=True)
            rounds.append(rates)
        out.update(summarize(rounds), worker_runs=runs)
        if "latency" in parts:
            lat = out["latency"] = await latency(
                kind, broker.bootstrap, args.latency_count, args.rate, workdir
            )
            print(f"[{kind}] (c) latency p50 {lat['p50'] * 1000:.0f} ms, "
                  f"p99 {lat['p99'] * 1000:.0f} ms", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="embedded,apache")
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--latency-count", type=int, default=capacity())
    parser.add_argument("--rate", type=float, default=10.0, help="latency run, articles/s")
    parser.add_argument("--parts", default="ceiling,loop,one,two,latency",
                        help="which measurements to run (comma-separated subset)")
    parser.add_argument("--rounds", type=positive, default=1,
                        help="repeat (a), (a') and (b) this many times, taking turns")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"corpus not found at {args.corpus}")
    records = corpus_records(args.corpus, args.articles)
    results = {}
    for kind in args.brokers.split(","):
        results[kind] = asyncio.run(run_broker(kind, args, records))
    print(table(results, len(records), args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
