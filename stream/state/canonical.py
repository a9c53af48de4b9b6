"""Identity of an article before any fuzzy matching: canonical URL, source, body hash.

The same page reaches us under many URLs (campaign tags, click ids, ``#comments``, an
upper-case host), and the same wire text is republished verbatim by many outlets. Collapsing
both exactly and cheaply first keeps the MinHash clustering for the genuinely fuzzy cases.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stream.models import Article

__all__ = [
    "TRACKING_PARAMS",
    "UNKNOWN_SOURCE",
    "body_fingerprint",
    "canonical_url",
    "digest",
    "source_of",
    "words",
]

UNKNOWN_SOURCE = "unknown"

# Exact names; every ``utm_*`` parameter is dropped as well.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "ocid",
        "smid",
        "sr_share",
        "share",
        "taid",
        "at_medium",
        "at_campaign",
        "ito",
        "spm",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"\w+", re.UNICODE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def canonical_url(url: str | None) -> str | None:
    """The URL every copy of one page shares, or ``None`` when there is no usable URL.

    Scheme and host are lower-cased, default ports, ``www.``, fragments, tracking parameters
    and a trailing slash are dropped, and the remaining query parameters are sorted. The
    path keeps its case: servers may treat it as significant. ``http`` and ``https`` are
    folded together because outlets serve the same article on both.
    """
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or scheme not in _DEFAULT_PORTS:
        return None
    host = host.removeprefix("www.")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


def source_of(article: Article) -> str:
    """The outlet that published ``article``: its ``source``, else the URL host, else unknown.

    Case and surrounding blanks are folded so "Reuters" and "reuters " count once.
    """
    if article.source and article.source.strip():
        return " ".join(article.source.split()).casefold()
    canonical = canonical_url(article.url)
    if canonical:
        return urlsplit(canonical).hostname or UNKNOWN_SOURCE
    return UNKNOWN_SOURCE


def words(text: str) -> list[str]:
    """Case-folded word tokens; punctuation and layout never make two copies differ."""
    return _WORD.findall(text.casefold())


def digest(*parts: str, size: int = 16) -> str:
    """A short stable hex digest; ``hash()`` is salted per process, so never use it for keys."""
    hasher = hashlib.blake2b(digest_size=size)
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x1f")
    return hasher.hexdigest()


def body_fingerprint(article: Article) -> str | None:
    """Hash of the body's words, equal for verbatim copies whatever their layout.

    ``None`` for an empty body: two articles with no text are not the same story.
    """
    tokens = words(article.body)
    if not tokens:
        return None
    return digest(" ".join(tokens))
