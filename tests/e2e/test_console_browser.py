"""The console in a real browser against a real worker on the embedded broker.

The seed article is published after the Alerts page is open and its alert must appear without
a reload; the Playground must show both CSTO rules firing on the pasted seed with "Armenia"
marked. Every page is photographed at desktop and phone width.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from stream.broker import free_port
from tests.support.worker import WorkerProcess, unique_names

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seeds" / "kremlin-regrets-armenia-absence.json"
CSTO_RULES = ("csto-member-skips-summit", "csto-member-departure-risk")
WIDTHS = {"1280": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = ("alerts", "rules", "subscriptions", "playground")


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return data


ADMIN_TOKEN = "console-e2e-admin-token"
PARTNER_SECRET = "whsec_ZTJlLXBhcnRuZXItc2VjcmV0LW5vdC1zaG93bi0xMjM="
# The partner's port has no listener: its deliveries fail fast and are dead-lettered, so the
# Alerts page has a failure (and, with the admin token set, a redrive button) to show.
SUBSCRIPTIONS = """\
version: 1
destinations:
  desk-screen: {{type: console}}
  partner-feed:
    type: webhook
    url: http://127.0.0.1:{port}/hooks/newsalert
    secret_env: PARTNER_WEBHOOK_SECRET
    allow_private: true
routes:
  - {{name: csto-to-desk, tags: [csto], to: [desk-screen]}}
  - {{name: serious-to-partner, min_severity: high, to: [partner-feed]}}
"""


@pytest.fixture(scope="module")
def worker(
    browser: Any, broker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    workdir = tmp_path_factory.mktemp("e2e-worker")
    subscriptions = workdir / "subscriptions.yml"
    subscriptions.write_text(SUBSCRIPTIONS.format(port=free_port()))
    env = {
        **unique_names("console"),
        "NEWSALERT_SUBSCRIPTIONS_FILE": str(subscriptions),
        "NEWSALERT_ADMIN_TOKEN": ADMIN_TOKEN,
        "PARTNER_WEBHOOK_SECRET": PARTNER_SECRET,
        "NEWSALERT_DELIVERY_MAX_ATTEMPTS": "2",
        "NEWSALERT_DELIVERY_BACKOFF_S": "0.1",
    }
    with WorkerProcess(broker.bootstrap, workdir, env) as process:
        yield process


def _publish(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def _shoot(page: Any, artifacts: Path, name: str, focus: str = "body") -> None:
    """One screenshot per width, of the viewport with ``focus`` scrolled to the top."""
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {label} ({width}px)"
        page.locator(focus).first.evaluate("element => element.scrollIntoView()")
        page.screenshot(path=str(artifacts / f"{name}-{label}.png"))
    page.set_viewport_size(WIDTHS["1280"])


def test_seed_alert_appears_live_and_fires_both_rules_in_the_playground(
    browser: Any, worker: WorkerProcess, broker: Any, seed: dict[str, Any], artifacts: Path
) -> None:
    base = f"http://127.0.0.1:{worker.web_port}/console"
    context = browser.new_context(viewport=WIDTHS["1280"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{base}/alerts")
        page.wait_for_function(
            "document.getElementById('live-status').textContent.startsWith('Live')")
        page.evaluate("window.__sameDocument = true")

        topic = worker.env["NEWSALERT_ARTICLES_TOPIC"]
        _publish(broker.bootstrap, topic, seed["id"], SEED.read_bytes())
        card = page.locator('li.alert[data-rule="csto-member-skips-summit"]')
        card.wait_for(timeout=90_000)
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        assert seed["title"] in card.locator(".headline").inner_text()
        assert "Armenia" in card.locator("mark.hit").all_inner_texts()
        failed = card.locator("li", has_text="partner-feed").locator(".status")
        failed.filter(has_text="dead lettered").wait_for(timeout=60_000)
        assert card.get_by_role("button", name="Redrive").count() == 1
        _shoot(page, artifacts, "alerts")
        seen = [page.content()]

        # Keyboard: the first Tab reaches the skip link, the next the first page link.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Alerts"

        page.goto(f"{base}/rules")
        seen.append(page.content())
        for rule in CSTO_RULES:
            row = page.locator(f'tr[id="rule-{rule}"]')
            assert "csto.yml" in row.inner_text()
        counts = {rule: page.locator(f'tr[id="rule-{rule}"] td.num').all_inner_texts()
                  for rule in CSTO_RULES}
        # Both rules matched the seed; departure risk waits for a second source to alert.
        # Columns: alerts (24 h), matches (24 h), matches since start.
        assert counts == {"csto-member-skips-summit": ["1", "1", "1"],
                          "csto-member-departure-risk": ["0", "1", "1"]}
        _shoot(page, artifacts, "rules")

        page.goto(f"{base}/subscriptions")
        page.select_option("#c-rule", "csto-member-skips-summit")
        page.get_by_role("button", name="Check").click()
        hits = page.locator("#check-hits").inner_text()
        assert "desk-screen" in hits and "partner-feed" in hits
        seen.append(page.content())
        _shoot(page, artifacts, "subscriptions", focus="#check")

        page.goto(f"{base}/playground")
        page.get_by_label("Title").fill(seed["title"])
        page.get_by_label("Body").fill(seed["body"])
        page.get_by_role("button", name="Try it").click()
        page.locator("#result").wait_for()
        for rule in CSTO_RULES:
            outcome = page.locator(f'li.outcome.fired[data-rule="{rule}"]')
            assert outcome.count() == 1, f"{rule} did not fire"
            assert outcome.locator(".entity").inner_text() == "Armenia"
        marked = page.locator("#marked-title mark.hit, #marked-body mark.hit").all_inner_texts()
        assert "Armenia" in marked
        _shoot(page, artifacts, "playground", focus="#result")
        seen.append(page.content())
        for html in seen:
            assert ADMIN_TOKEN not in html and PARTNER_SECRET not in html
    finally:
        context.close()
    assert "Traceback" not in worker.log_path.read_text(errors="replace"), worker.log_tail()
