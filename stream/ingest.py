"""Turn raw bytes from the articles topic into an ``Article``, or say precisely why not.

The reason becomes the ``newsalert-error`` header of the dead-lettered message, so it must be
short, human-readable and name the offending field. :func:`evaluate_batch` then runs the
rules over the valid articles of a batch, keeping a fault to the article that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pydantic import ValidationError

from stream.engine import RuleSet
from stream.errors import ArticleError
from stream.models import Article, Match

__all__ = ["evaluate_batch", "parse_article"]

# The model's own validator, called without ``model_validate_json`` around it: the same
# validation and the same Article, and about 0.2 µs less of some 3 µs per article.
_validate_json = Article.__pydantic_validator__.validate_json


def parse_article(raw: bytes | str | None) -> Article:
    """Validate one message value; raises ``ArticleError`` with a one-line reason."""
    if not raw:  # None, b"" or ""
        raise ArticleError("empty message: expected a JSON object")
    try:
        # Bytes go to the JSON parser as they are (it checks UTF-8 itself, and decoding first
        # would cost a third of the parse); only a rejected message is decoded, to name the
        # offending byte when the text is not UTF-8.
        return cast(Article, _validate_json(raw))
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


def evaluate_batch(ruleset: RuleSet, articles: Sequence[Article]) -> list[list[Match] | Exception]:
    """Each article's matches, or the exception evaluating that article raised.

    The batch is evaluated at once (the gate scans all of it in one go). Should that raise,
    each article is evaluated again on its own, so an article that breaks the engine is the
    only one to fail, and the caller can dead-letter it alone.
    """
    try:
        return list(ruleset.evaluate_many(articles))
    except Exception:  # found again below, article by article
        pass
    results: list[list[Match] | Exception] = []
    for article in articles:
        try:
            results.append(ruleset.evaluate(article))
        except Exception as exc:  # handed to the caller with its article
            results.append(exc)
    return results
