"""Which story an article belongs to, within one (rule, entity) scope.

Exact copies collapse first and cheaply: the same article id or canonical URL is the same
article seen again (a redelivery, a re-post), the same body words are a verbatim syndicated
copy. What is left goes through MinHash over word 3-shingles (datasketch computes the
signatures) with locality-sensitive hashing whose band buckets are ordinary store keys, so
the index lives in whatever mapping holds the rest of the state (a Faust table in
production) and expires with it.

Similarity threshold: two bodies are one story when the estimated Jaccard similarity of
their word 3-shingle sets is at least ``similarity`` (default 0.5). On the BBC corpus, pairs
of distinct stories on the same topic stay below 0.45, while copies with a new headline, an
outlet's footer or one word in twenty changed stay well above 0.5; ``docs/state.md`` has the
measurement. Clustering is single-link: a copy joins the story of its most similar earlier
member.
"""

from __future__ import annotations

import base64
import math
import struct
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from datasketch import MinHash

from stream.models import Article
from stream.state.canonical import body_fingerprint, canonical_url, digest, words
from stream.state.store import TTLStore

__all__ = [
    "DEFAULT_NUM_PERM",
    "DEFAULT_SIMILARITY",
    "SHINGLE_WORDS",
    "Placement",
    "Signature",
    "StoryIndex",
    "doc_id",
    "estimate_similarity",
    "lsh_params",
    "shingles",
    "signature",
]

DEFAULT_SIMILARITY = 0.5
DEFAULT_NUM_PERM = 64
SHINGLE_WORDS = 3
# Newest document ids kept per LSH bucket: a bucket is a handful of near-copies, so a long
# list means boilerplate shared by unrelated articles, and old entries can be dropped.
_BUCKET_CAP = 16
_SIGNATURE_CACHE = 512


def shingles(article: Article, size: int = SHINGLE_WORDS) -> list[bytes]:
    """Word ``size``-shingles of the body, the headline's words joining very short bodies.

    The headline is left out otherwise because outlets rewrite headlines over the same wire
    text, and that must not split a story.
    """
    tokens = words(article.body)
    if len(tokens) < 4 * size:
        tokens = words(article.title) + tokens
    if len(tokens) < size:
        return [" ".join(tokens).encode()] if tokens else []
    return sorted({" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)})


Signature = tuple[int, ...]


def doc_id(article: Article) -> str:
    """The short id under which a scope remembers ``article`` (its ``d:`` key)."""
    return digest(article.id, size=12)


# Signatures are persisted and compared across workers and releases: name the permutation
# scheme instead of trusting the library default (it changed in datasketch 2.0).
_SCHEME = "affine32"


@lru_cache(maxsize=4)
def _template(num_perm: int) -> MinHash:
    # Drawing the seeded permutations costs more than hashing an article: draw them once.
    return MinHash(num_perm=num_perm, seed=1, scheme=_SCHEME)


def signature(article: Article, num_perm: int = DEFAULT_NUM_PERM) -> Signature:
    """The MinHash signature of the article's shingles (seeded, so equal in every process)."""
    permutations = _template(num_perm).permutations
    sketch = MinHash(num_perm=num_perm, seed=1, permutations=permutations, scheme=_SCHEME)
    sketch.update_batch(shingles(article))
    return tuple(int(value) for value in sketch.hashvalues)


def _pack(values: Signature) -> bytes:
    # datasketch keeps each value below 2**32, so 32 bits store it exactly.
    return struct.pack(f"<{len(values)}I", *values)


def _encode(sig: Signature) -> str:
    return base64.b64encode(_pack(sig)).decode("ascii")


def _decode(text: str) -> Signature:
    raw = base64.b64decode(text)
    return struct.unpack(f"<{len(raw) // 4}I", raw)


def estimate_similarity(left: Signature, right: Signature) -> float:
    """Estimated Jaccard similarity: the share of signature slots that agree."""
    if len(left) != len(right) or not left:
        return 0.0
    return sum(a == b for a, b in zip(left, right, strict=True)) / len(left)


def _probability(similarity: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - similarity**rows) ** bands


@lru_cache(maxsize=32)
def lsh_params(similarity: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that minimise missed pairs above and candidate pairs below ``similarity``.

    Both error areas under the S-curve are integrated numerically and weighted equally;
    candidates are verified against the stored signature anyway, so a false candidate costs
    one comparison while a missed pair splits a story.
    """
    if not 0.0 < similarity < 1.0:
        raise ValueError(f"similarity must be between 0 and 1, got {similarity}")
    steps = 200
    best: tuple[float, int, int] = (math.inf, 1, num_perm)
    for bands in range(1, num_perm + 1):
        rows = num_perm // bands
        false_pos = sum(
            _probability(similarity * (i + 0.5) / steps, bands, rows) for i in range(steps)
        ) * (similarity / steps)
        span = 1.0 - similarity
        false_neg = sum(
            1.0 - _probability(similarity + span * (i + 0.5) / steps, bands, rows)
            for i in range(steps)
        ) * (span / steps)
        error = false_pos + false_neg
        if error < best[0]:
            best = (error, bands, rows)
    return best[1], best[2]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an article landed: its story and whether it was this article seen again."""

    story_id: str
    new_story: bool
    seen: bool


class StoryIndex:
    """Places articles into stories; all keys it writes start with the caller's prefix."""

    def __init__(
        self,
        store: TTLStore,
        *,
        similarity: float = DEFAULT_SIMILARITY,
        num_perm: int = DEFAULT_NUM_PERM,
    ) -> None:
        self._store = store
        self._similarity = similarity
        self._num_perm = num_perm
        self._bands, self._rows = lsh_params(similarity, num_perm)
        # One article matched by several rules is placed once per scope; hash it once.
        self._signatures: OrderedDict[str, Signature] = OrderedDict()

    def _signature(self, article: Article, fingerprint: str | None) -> Signature:
        cache_key = digest(article.id, fingerprint or "", article.title)
        cached = self._signatures.get(cache_key)
        if cached is not None:
            self._signatures.move_to_end(cache_key)
            return cached
        sig = signature(article, self._num_perm)
        self._signatures[cache_key] = sig
        if len(self._signatures) > _SIGNATURE_CACHE:
            self._signatures.popitem(last=False)
        return sig

    def place(self, prefix: str, article: Article, now: float, expires: float) -> Placement:
        """Find or start the story of ``article`` and record it until ``expires``."""
        doc_key = f"{prefix}d:{doc_id(article)}"
        known = self._store.get(doc_key, now)
        if isinstance(known, dict):
            return Placement(str(known["s"]), new_story=False, seen=True)

        url = canonical_url(article.url)
        url_key = f"{prefix}u:{digest(url, size=12)}" if url else None
        if url_key is not None:
            story = self._store.get(url_key, now)
            if isinstance(story, str):
                self._store.put(doc_key, {"s": story}, expires)
                return Placement(story, new_story=False, seen=True)

        fingerprint = body_fingerprint(article)
        body_key = f"{prefix}b:{fingerprint}" if fingerprint else None
        story_id: str | None = None
        if body_key is not None:
            found = self._store.get(body_key, now)
            story_id = found if isinstance(found, str) else None

        doc: dict[str, str] = {}
        new_story = False
        if story_id is None:
            sig = self._signature(article, fingerprint)
            band_keys = self._band_keys(prefix, sig)
            story_id = self._nearest(prefix, band_keys, sig, now)
            if story_id is None:
                story_id = f"sty_{digest(prefix, article.id, size=12)}"
                new_story = True
            doc["m"] = _encode(sig)
            member = doc_key.rsplit(":", 1)[1]
            for band_key in band_keys:
                members = self._store.get(band_key, now)
                listed = [m for m in members if m != member] if isinstance(members, list) else []
                self._store.put(band_key, [*listed, member][-_BUCKET_CAP:], expires)

        doc["s"] = story_id
        self._store.put(doc_key, doc, expires)
        if url_key is not None:
            self._store.put(url_key, story_id, expires)
        if body_key is not None:
            self._store.put(body_key, story_id, expires)
        return Placement(story_id, new_story=new_story, seen=False)

    def _band_keys(self, prefix: str, sig: Signature) -> list[str]:
        keys = []
        for band in range(self._bands):
            chunk = sig[band * self._rows : (band + 1) * self._rows]
            keys.append(f"{prefix}l:{band}:{digest(_pack(chunk).hex(), size=8)}")
        return keys

    def _nearest(self, prefix: str, band_keys: list[str], sig: Signature, now: float) -> str | None:
        """The story of the most similar earlier document at or above the threshold."""
        candidates: dict[str, None] = {}
        for band_key in band_keys:
            members = self._store.get(band_key, now)
            if isinstance(members, list):
                candidates.update(dict.fromkeys(str(m) for m in members))
        best: tuple[float, str] | None = None
        for candidate in candidates:
            doc = self._store.get(f"{prefix}d:{candidate}", now)
            if not isinstance(doc, dict) or "m" not in doc:
                continue
            score = estimate_similarity(sig, _decode(str(doc["m"])))
            if score >= self._similarity and (best is None or score > best[0]):
                best = (score, str(doc["s"]))
        return None if best is None else best[1]
