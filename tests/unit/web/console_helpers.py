"""Builders for console tests: a real runtime over real rules, alerts in our own words, and
an HTTP client on the real Faust web app with the console installed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from aiohttp.test_utils import TestClient, TestServer

from stream.delivery import build_router, build_sinks
from stream.models import Alert, Article, Evidence, Match
from stream.rules_live import LiveRules
from stream.runtime import Runtime
from stream.settings import Settings

__all__ = ["REPO", "console_client", "make_alert", "make_runtime"]

REPO = Path(__file__).resolve().parents[3]

BODY = (
    "Diplomats in Yerevan said the delegation would not attend the CSTO summit this week, "
    "the latest sign that ties inside the bloc are cooling."
)


def make_alert(**overrides: Any) -> Alert:
    """An alert for Armenia skipping a CSTO summit; any Alert field can be overridden."""
    start = BODY.index("not attend")
    article = Article(
        id=overrides.pop("article_id", "art-console-1"),
        title=overrides.pop("headline", "Yerevan sends no one to the CSTO summit"),
        body=BODY,
        url=overrides.pop("url", "https://news.example.org/yerevan-csto"),
        source=overrides.pop("source", "example-wire"),
    )
    match = Match(
        rule_id=overrides.pop("rule_id", "csto-member-skips-summit"),
        rule_name="CSTO member state skips a summit",
        rule_version="v1",
        severity=overrides.pop("severity", "high"),
        entity=overrides.pop("entity", "Armenia"),
        tags=overrides.pop("tags", ("csto", "summit")),
        title=overrides.pop("title", "Armenia skips a CSTO summit"),
        evidence=overrides.pop("evidence", (
            Evidence(field="body", term="not attend*", text="not attend", start=start,
                     end=start + len("not attend"),
                     snippet="…the delegation would not attend the CSTO summit this week…"),
            Evidence(field="body", term="CSTO", text="CSTO", start=BODY.index("CSTO"),
                     end=BODY.index("CSTO") + 4,
                     snippet="…the delegation would not attend the CSTO summit this week…"),
        )),
    )
    created = overrides.pop("created_at", datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    alert = Alert.from_match(match, article, now=created)
    return alert.model_copy(update=overrides) if overrides else alert


def make_runtime(
    tmp_path: Path,
    *,
    rules_dir: Path | None = None,
    subscriptions: str | None = None,
    dynamic: dict[str, Any] | None = None,
    **settings: Any,
) -> Runtime:
    """A runtime as the worker builds it, minus Kafka; ``dynamic`` holds slash subscriptions."""
    file = None
    if subscriptions is not None:
        file = tmp_path / "subscriptions.yml"
        file.write_text(subscriptions)
    conf = Settings(
        _env_file=None,  # type: ignore[call-arg]
        rules_dir=rules_dir or REPO / "rules",
        subscriptions_file=file,
        data_dir=tmp_path / "data",
        **settings,
    )
    rules = LiveRules([conf.rules_dir])
    router = build_router(conf, conf.subscriptions_file, dynamic=dynamic)
    return Runtime(conf, rules, router, build_sinks(conf, router.subscriptions))


@asynccontextmanager
async def console_client(runtime: Runtime) -> AsyncIterator[TestClient[Any, Any]]:
    """An HTTP client on a Faust app whose web server has the console installed."""
    from stream.web import console

    app = faust.App(f"console-test-{id(runtime)}", autodiscover=False, web_enabled=True)
    console.install(app, runtime)
    async with TestClient(TestServer(app.web.web_app)) as client:
        yield client
