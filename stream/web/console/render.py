"""Rendering: one autoescaping Jinja environment plus the few helpers that emit markup.

Article titles, bodies and URLs come from outside and are untrusted, so nothing reaches a page
unescaped: templates autoescape, and the helpers here that build ``<mark>`` highlights escape
every piece of text themselves before wrapping it. URLs are linked only when they are http(s),
and destination URLs are cut to scheme and host because their paths and queries often carry
tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

__all__ = [
    "SECURITY_HEADERS",
    "display_destination",
    "environment",
    "highlight_spans",
    "highlight_terms",
    "redact_url",
    "render",
    "safe_href",
]

# No inline script or style anywhere, so the policy can forbid both: an escaping bug would
# still not run a script.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_MARK_OPEN = Markup('<mark class="hit">')
_MARK_CLOSE = Markup("</mark>")


def highlight_spans(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """``text`` escaped, with each ``start:end`` span (merged where they overlap) marked."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Markup] = []
    position = 0
    for start, end in merged:
        out.append(escape(text[position:start]))
        out.append(_MARK_OPEN + escape(text[start:end]) + _MARK_CLOSE)
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def highlight_terms(text: str, needles: Iterable[str]) -> Markup:
    """``text`` escaped with every case-insensitive, whole-word occurrence of a needle marked.

    Evidence snippets collapse whitespace, so needles are collapsed the same way first; whole
    words only, so the evidence "Armenia" does not mark the front of "Armenian".
    """
    spans: list[tuple[int, int]] = []
    for needle in {" ".join(n.split()) for n in needles}:
        if not needle:
            continue
        pattern = rf"(?<!\w){re.escape(needle)}(?!\w)"
        for found in re.finditer(pattern, text, flags=re.IGNORECASE):
            spans.append(found.span())
    return highlight_spans(text, spans)


def safe_href(url: str | None) -> str | None:
    """``url`` if it is an http(s) link, else None: an article may carry ``javascript:``."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def redact_url(url: str) -> str:
    """Scheme and host only; user info, path and query are where webhook tokens live."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable URL)"
    rest = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def display_destination(name: str) -> str:
    """A destination name safe to show: shorthand webhooks are named after their full URL."""
    if name.startswith("webhook:"):
        return "webhook:" + redact_url(name[len("webhook:") :])
    return name


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def environment() -> Environment:
    """The console's Jinja environment: package templates, autoescape on, strict names."""
    env = Environment(
        loader=PackageLoader("stream.web.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["destination"] = display_destination
    env.filters["href"] = safe_href
    return env


_ENV: Environment | None = None


def render(template: str, **context: Any) -> str:
    """Render one template of the console."""
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV.get_template(template).render(**context)
