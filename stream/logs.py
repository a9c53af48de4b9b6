"""Worker logs as one JSON object per line, or as the usual human-readable text.

Log collectors (Loki, Elasticsearch, CloudWatch) index JSON fields, so an operator can ask for
every line about one alert or one rule without parsing prose. The agents pass those ids as
``extra=`` fields (``alert_id``, ``rule_id``, ``article_id``, ``destination``...); the JSON
formatter puts every such field at the top level of the object, next to ``ts``, ``level``,
``logger`` and ``message``. The text format keeps Faust's own console layout.

Faust's worker reconfigures logging when it starts, so the configuration is handed to it as a
``logging.config.dictConfig`` mapping (:func:`logging_config`) rather than installed once.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["JsonFormatter", "LogFormat", "configure", "logging_config"]

LogFormat = Literal["json", "text"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)


def _plain(value: Any) -> Any:
    """JSON-safe form of an extra field: keep JSON scalars and containers, stringify the rest."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, with ``extra=`` fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _plain(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


# Libraries whose INFO lines say nothing an operator needs ("1 change detected" for each
# file event the rule and subscription watchers see).
QUIET_LOGGERS = ("watchfiles",)


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any] | None:
    """The dictConfig for ``faust.Worker(logging_config=...)``; None keeps Faust's text layout."""
    if log_format == "text":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
                "level": level,
            }
        },
        "root": {"level": level, "handlers": ["default"]},
        "loggers": {name: {"level": "WARNING"} for name in QUIET_LOGGERS},
    }


def configure(log_format: LogFormat, level: str) -> None:
    """Set up logging for what runs before the Faust worker takes over (broker start, topics)."""
    config = logging_config(log_format, level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if config is None:
        logging.basicConfig(level=level, stream=sys.stderr)
    else:
        logging.config.dictConfig(config)
