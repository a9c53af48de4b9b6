"""The published JSON Schema of the webhook payload (``docs/webhook-schema.json``).

Generated from :class:`stream.models.Alert` so the document cannot drift from the code; a test
fails when the committed file is stale. Regenerate with
``python -m stream.delivery.schema docs/webhook-schema.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from stream.models import ALERT_SCHEMA_VERSION, Alert

__all__ = ["alert_json_schema", "render"]

_DESCRIPTION = (
    "Body of every newsalert webhook POST. Headers follow the Standard Webhooks "
    "specification: webhook-id (the alert id, stable across retries: deduplicate on it), "
    "webhook-timestamp (Unix seconds) and webhook-signature (v1,<base64 HMAC-SHA256 of "
    "'{id}.{timestamp}.{body}'). Optional fields may be added within a schema_version; "
    "renaming or removing a field increments it."
)


def _open(node: Any) -> Any:
    """Drop ``additionalProperties: false``: receivers must accept fields we add later."""
    if isinstance(node, dict):
        return {
            k: _open(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)
        }
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


def alert_json_schema() -> dict[str, Any]:
    """The schema of what a webhook receives: ``Alert`` as serialised on the wire."""
    schema = _open(Alert.model_json_schema(mode="serialization"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:newsalert:schema:alert:{ALERT_SCHEMA_VERSION}",
        **schema,
        "title": f"newsalert alert, schema version {ALERT_SCHEMA_VERSION}",
        "description": _DESCRIPTION,
    }


def render() -> str:
    """The file's exact text: stable key order, two-space indent, trailing newline."""
    return json.dumps(alert_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
