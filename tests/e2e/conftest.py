"""Browser-test fixtures: Debian's Chromium driven by Playwright, and a real broker.

The tests skip (with the reason) only when the browser is absent; ``tests/e2e/setup.sh``
installs it. Screenshots go to ``artifacts/console/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stream.broker import EmbeddedBroker

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NEWSALERT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's sync API keeps an event loop running in this thread while it is open, so
    it must close before any asyncio test of the session runs: module scope, not session."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: run tests/e2e/setup.sh to install it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    instance = EmbeddedBroker(workdir=tmp_path_factory.mktemp("e2e-broker"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
