"""The console over HTTP on the real Faust web app: every page, escaping, secrets, admin
actions and live updates."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from console_helpers import console_client, make_alert, make_runtime

from stream.delivery import Dispatcher, RetryPolicy
from stream.runtime import Runtime
from stream.web.console.alerts import destination_key
from tests.support.waiting import wait_for_async

SECRETS = {
    "slack_token": "xoxb-slack-token-do-not-show",
    "webhook_secret": "whsec_c2VjcmV0LWZvci1jb25zb2xlLXRlc3RzLTAwMDE=",
    "slack_signing_secret": "signing-secret-do-not-show",
    "admin_token": "admin-token-do-not-show",
}
HOOK_URL = "https://hooks.example.org/services/T0/B0/path-token-do-not-show?key=query-secret"
SUBS = """\
version: 1
destinations:
  partner:
    type: webhook
    url: "https://partner.example.org/in/partner-path-secret"
    secret_env: PARTNER_SECRET
    headers: {Authorization: "Bearer header-secret-do-not-show"}
routes:
  - {tags: [csto], to: [partner]}
"""
PARTNER_SECRET = "whsec_cGFydG5lci1zZWNyZXQtZG8tbm90LXNob3ctMTI="
NEEDLES = (*SECRETS.values(), "whsec_", "path-token-do-not-show", "query-secret",
           "partner-path-secret", "header-secret-do-not-show", PARTNER_SECRET)
PAGES = ("/console/alerts", "/console/rules", "/console/subscriptions", "/console/playground")
EVIL = "<script>alert('pwned')</script>"


@pytest.fixture
def secret_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("PARTNER_SECRET", PARTNER_SECRET)
    runtime = make_runtime(tmp_path, subscriptions=SUBS, webhook_urls=[HOOK_URL],
                           slack_channels=["alerts"], **SECRETS)
    alert = make_alert()
    runtime.recent.add(alert)
    runtime.recent.delivered(alert.id, f"webhook:{HOOK_URL}", "dead_lettered")
    runtime.recent.delivered(alert.id, "partner", "delivered")
    return runtime


async def _first_event(client: Any, path: str) -> str:
    async with client.get(path) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        return await asyncio.wait_for(_read_event(resp, "alerts"), 10)


async def _read_event(resp: Any, name: str, containing: str = "") -> str:
    """Lines of the next ``name`` event whose data contains ``containing``."""
    event: list[str] = []
    while True:
        line = (await resp.content.readline()).decode()
        if not line:
            raise AssertionError("event stream ended")
        if line.strip():
            event.append(line.rstrip("\n"))
            continue
        text = "\n".join(event)
        event = []
        if text.startswith(f"event: {name}") and containing in text:
            return text


async def test_every_page_answers_with_security_headers(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    async with console_client(runtime) as client:
        for path in PAGES:
            resp = await client.get(path)
            assert resp.status == 200, path
            assert resp.content_type == "text/html"
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
            html = await resp.text()
            assert 'aria-current="page"' in html and '<main id="main"' in html
            assert re.findall(r"<script[^>]*>", html) == [
                '<script src="/console/static/console.js" defer>']
        resp = await client.get("/console", allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (303, "/console/alerts")
        for name, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
            resp = await client.get(f"/console/static/{name}")
            assert resp.status == 200 and resp.content_type == kind
        for bad in ("nope.css", "..%2F__init__.py", "..%2F..%2Fsettings.py"):
            assert (await client.get(f"/console/static/{bad}")).status == 404


async def test_no_secret_reaches_any_page(secret_runtime: Runtime) -> None:
    alert_id = next(iter(secret_runtime.recent)).id
    async with console_client(secret_runtime) as client:
        bodies: dict[str, str] = {}
        for path in (*PAGES, "/console/alerts?tag=csto", f"/console/playground?alert={alert_id}",
                     f"/console/subscriptions?alert={alert_id}",
                     "/console/subscriptions?rule=csto-member-skips-summit"):
            resp = await client.get(path)
            assert resp.status == 200, path
            bodies[path] = await resp.text()
        resp = await client.post("/console/playground", data={"title": "CSTO", "body": ""})
        bodies["POST playground"] = await resp.text()
        resp = await client.post("/console/rules/reload", data={"token": "wrong"})
        assert resp.status == 401
        bodies["POST reload"] = await resp.text()
        bodies["events"] = await _first_event(client, "/console/alerts/events")
    assert "webhook:https://hooks.example.org/…" in bodies["/console/alerts"]
    assert "dead lettered" in bodies["/console/alerts"]
    for where, body in bodies.items():
        for needle in NEEDLES:
            assert needle not in body, f"{needle!r} leaked on {where}"


async def test_untrusted_text_is_escaped_everywhere(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    alert = make_alert(headline=EVIL, title=EVIL, entity=EVIL, source=EVIL,
                       url="javascript:alert(1)", tags=(EVIL,))
    runtime.recent.add(alert)
    async with console_client(runtime) as client:
        pages = [await (await client.get(p)).text() for p in (
            "/console/alerts", f"/console/playground?alert={alert.id}",
            f"/console/subscriptions?alert={alert.id}", f"/console/alerts?tag={EVIL}")]
        resp = await client.post("/console/playground", data={
            "title": EVIL, "body": f"{EVIL} Armenia will skip the CSTO summit.",
            "rule_yaml": "",
        })
        pages.append(await resp.text())
        pages.append(await _first_event(client, "/console/alerts/events"))
    for html in pages:
        assert "<script>alert" not in html
        assert "javascript:alert" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in pages[0]
    assert '<mark class="hit">Armenia</mark>' in pages[4]


async def test_playground_shows_yaml_problems_with_lines(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    async with console_client(runtime) as client:
        resp = await client.post("/console/playground", data={
            "title": "t", "body": "b",
            "rule_yaml": "rules:\n  - id: x\n    name: y\n    severity: loud\n"
                         "    when: {any: [a]}\n",
        })
        assert resp.status == 422
        html = await resp.text()
    assert "pasted.yml:4:" in html and "loud" in html


async def test_playground_chosen_rules_round_trip(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    async with console_client(runtime) as client:
        resp = await client.post("/console/playground", data=[
            ("title", "Armenia will skip the CSTO summit"), ("body", ""),
            ("rules", "csto-member-skips-summit"), ("rules", "csto-member-departure-risk"),
        ])
        html = await resp.text()
    assert resp.status == 200
    assert "1 of 2 rules fired (chosen rules)" in html
    assert html.count(" selected>") >= 2, "the choice survives the round trip"


async def test_read_only_without_an_admin_token(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    alert = make_alert()
    runtime.recent.add(alert)
    runtime.recent.delivered(alert.id, "console", "dead_lettered")
    async with console_client(runtime) as client:
        html = await (await client.get("/console/alerts")).text()
        assert "Redrive" not in html and "read-only" in html
        assert "Reload rules now" not in await (await client.get("/console/rules")).text()
        for path in ("/console/rules/reload", "/console/alerts/redrive"):
            resp = await client.post(path, data={"token": "", "alert": alert.id,
                                                 "destination": destination_key("console")})
            assert resp.status == 403, path
            assert "NEWSALERT_ADMIN_TOKEN" in await resp.text()
        assert (await client.get("/console/rules/reload")).status == 405
    assert runtime.recent.outcomes[alert.id] == {"console": "dead_lettered"}


async def test_admin_token_unlocks_reload(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, admin_token="let-me-in")
    before = runtime.rules.last_attempt
    async with console_client(runtime) as client:
        assert "Reload rules now" in await (await client.get("/console/rules")).text()
        denied = await client.post("/console/rules/reload", data={"token": "let-me-out"})
        assert denied.status == 401 and runtime.rules.last_attempt == before
        resp = await client.post("/console/rules/reload", data={"token": "let-me-in"})
        assert resp.status == 200
        assert f"Rules version {runtime.rules.version} is live" in await resp.text()
    assert runtime.rules.last_attempt != before


async def test_admin_token_unlocks_redrive(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, admin_token="let-me-in")
    alert = make_alert()
    runtime.recent.add(alert)
    runtime.recent.delivered(alert.id, "console", "dead_lettered")
    form = {"token": "let-me-in", "alert": alert.id, "destination": destination_key("console")}
    letters: list[Any] = []

    async def dead_letter(letter: Any) -> None:
        letters.append(letter)

    async with console_client(runtime) as client:
        assert "Redrive" in await (await client.get("/console/alerts")).text()
        assert (await client.post("/console/alerts/redrive", data=form)).status == 409
        runtime.dispatcher = Dispatcher(runtime.sinks, runtime.router, {}, dead_letter,
                                        RetryPolicy())
        gone = {**form, "alert": "alrt_gone"}
        assert (await client.post("/console/alerts/redrive", data=gone)).status == 404
        resp = await client.post("/console/alerts/redrive", data=form)
        assert resp.status == 202
        await wait_for_async(
            lambda: runtime.recent.outcomes[alert.id]["console"] == "delivered", 10,
            "the redriven delivery")
    assert letters == []


async def test_alerts_arrive_live_over_server_sent_events(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    async with console_client(runtime) as client, \
            client.get("/console/alerts/events?severity=high") as resp:
        first = await asyncio.wait_for(_read_event(resp, "alerts"), 10)
        assert "No alerts yet" in first
        runtime.recent.add(make_alert(article_id="quiet", severity="low"))
        loud = make_alert(article_id="loud", severity="critical")
        runtime.recent.add(loud)
        event = await asyncio.wait_for(_read_event(resp, "alerts", loud.id), 10)
    assert "id: " in event
    assert make_alert(article_id="quiet", severity="low").id not in event, "filters apply live"
