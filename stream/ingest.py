"""Turn raw bytes from the articles topic into an ``Article``, or say precisely why not.

The reason becomes the ``newsalert-error`` header of the dead-lettered message, so it must be
short, human-readable and name the offending field.
"""

from __future__ import annotations

from pydantic import ValidationError

from stream.errors import ArticleError
from stream.models import Article

__all__ = ["parse_article"]


def parse_article(raw: bytes | str | None) -> Article:
    """Validate one message value; raises ``ArticleError`` with a one-line reason."""
    if raw is None or raw in (b"", ""):
        raise ArticleError("empty message: expected a JSON object")
    try:
        # Bytes go to the JSON parser as they are (it checks UTF-8 itself, and decoding first
        # would cost a third of the parse); only a rejected message is decoded, to name the
        # offending byte when the text is not UTF-8.
        return Article.model_validate_json(raw)
    except ValidationError as exc:
        if isinstance(raw, bytes):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                reason = f"not UTF-8 text: {bad.reason} at byte {bad.start}"
                raise ArticleError(reason) from bad
        raise ArticleError(_reason(exc)) from exc


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "message"
        if err["type"] == "json_invalid":
            parts.append(f"invalid JSON: {err['msg'].removeprefix('Invalid JSON: ')}")
        elif err["type"] == "model_type":
            parts.append("expected a JSON object")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
