"""JSON logs: one object per line, ids from ``extra=`` as top-level fields, text left to Faust."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stream.logs import JsonFormatter, configure, logging_config


def _record(msg: str, *args: object, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    record = logging.LogRecord("newsalert", logging.INFO, __file__, 7, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, {}),
        ({"alert_id": "alrt_1", "rule_id": "r-1"}, {"alert_id": "alrt_1", "rule_id": "r-1"}),
        ({"attempts": 3, "entity": None}, {"attempts": 3, "entity": None}),
        ({"tags": ("a", "b")}, {"tags": ["a", "b"]}),
        ({"at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}, {"at": "2026-01-02T03:04:00+00:00"}),
        ({"path": Path("/x/y")}, {"path": "/x/y"}),
        ({"nested": {1: {"k": (1, 2)}}}, {"nested": {"1": {"k": [1, 2]}}}),
    ],
)
def test_extra_fields_become_top_level_json(
    extra: dict[str, Any], expected: dict[str, Any]
) -> None:
    line = JsonFormatter().format(_record("alert %s", "alrt_1", **extra))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "alert alrt_1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "newsalert"
    assert entry["ts"].endswith("+00:00")
    standard = {"ts", "level", "logger", "message"}
    assert {k: v for k, v in entry.items() if k not in standard} == expected


def test_exceptions_stay_on_one_line() -> None:
    entry = json.loads(JsonFormatter().format(_record("failed", exc=True)))
    assert "ValueError: boom" in entry["exc"]
    assert "Traceback" in entry["exc"]


def test_extra_cannot_overwrite_the_message() -> None:
    record = _record("real message", level="not-a-level")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "real message"
    assert entry["level"] == "INFO"


def test_text_format_leaves_faust_layout_alone() -> None:
    assert logging_config("text", "INFO") is None


def test_json_config_writes_one_object_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dictConfig handed to Faust's worker, applied as the worker applies it."""
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure("json", "INFO")
        log = logging.getLogger("newsalert")
        log.info("alert %s", "alrt_9", extra={"alert_id": "alrt_9", "rule_id": "csto"})
        log.debug("not shown at INFO")
        lines = out.getvalue().splitlines()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["alert_id"], entry["rule_id"], entry["message"]) == ("alrt_9", "csto",
                                                                       "alert alrt_9")


def test_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from stream.settings import Settings

    monkeypatch.setenv("NEWSALERT_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("NEWSALERT_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="json"):
        Settings()
