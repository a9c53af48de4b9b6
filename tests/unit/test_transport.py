"""The tuned transport: fetch settings reach the consumer."""

from __future__ import annotations

from typing import Any

import faust
import pytest

from stream.app import fetch_max_wait_ms
from stream.settings import Settings
from stream.transport import (
    FetchTuning,
    TransportError,
    TunedTransport,
    apply_tuning,
    install_transport,
)


def _app() -> Any:
    app = faust.App("transport-test", broker="kafka://127.0.0.1:9", autodiscover=False)
    install_transport(app, FetchTuning(max_wait_ms=77, max_bytes=123_456))
    return app


@pytest.mark.parametrize(
    ("override", "embedded", "expected"),
    [
        (None, True, 100),
        (None, False, 1500),
        (20, True, 20),
        (250, False, 250),
    ],
)
def test_fetch_wait_is_short_on_the_embedded_broker_unless_set(
    override: int | None, embedded: bool, expected: int
) -> None:
    settings = Settings(fetch_max_wait_ms=override)
    assert fetch_max_wait_ms(settings, embedded=embedded) == expected


async def test_the_worker_consumer_is_built_with_the_tuning() -> None:
    app = _app()
    assert isinstance(app.transport, TunedTransport)
    thread = app.consumer._thread
    consumer = thread._create_worker_consumer(app.transport)
    try:
        # aiokafka builds its fetcher from these when the consumer starts.
        assert consumer._fetch_max_wait_ms == 77
        assert consumer._fetch_max_bytes == 123_456
        assert consumer._group_id == "transport-test"  # Faust's own settings still apply
    finally:
        await consumer.stop()


def test_an_aiokafka_without_the_attributes_fails_loudly() -> None:
    class Renamed:
        _fetch_max_bytes = 1

    with pytest.raises(TransportError, match="_fetch_max_wait_ms"):
        apply_tuning(Renamed(), FetchTuning(max_wait_ms=5))  # type: ignore[arg-type]
