"""Integration fixtures: a real broker for the session (embedded Tansu by default, Apache Kafka
with NEWSALERT_TEST_BROKER=apache) and helpers to run real workers against it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stream.broker import EmbeddedBroker

BROKER_KIND = os.environ.get("NEWSALERT_TEST_BROKER", "embedded")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker_kind() -> str:
    return BROKER_KIND


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The broker every integration test of the session talks to."""
    workdir = tmp_path_factory.mktemp(f"broker-{BROKER_KIND}")
    if BROKER_KIND == "apache":
        from stream.broker.apache import ApacheKafka

        instance: Any = ApacheKafka(workdir=workdir)
    elif BROKER_KIND == "embedded":
        instance = EmbeddedBroker(workdir=workdir)
    else:
        raise pytest.UsageError(f"NEWSALERT_TEST_BROKER={BROKER_KIND!r}: embedded or apache")
    instance.start()
    yield instance
    instance.stop()
