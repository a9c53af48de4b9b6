"""Alert state: dedup, story clustering, corroboration thresholds and escalation.

Pure code over a ``MutableMapping[str, Any]`` of JSON values, so the same logic runs on a
Faust table in the worker and on a plain ``dict`` in tests and dry-run replays. The worker
calls :meth:`AlertState.decide` for every match and :meth:`AlertState.sweep` periodically.
"""

from __future__ import annotations

from stream.state.canonical import canonical_url, source_of
from stream.state.decide import AlertState, horizon, scope_key
from stream.state.store import TTLStore
from stream.state.stories import DEFAULT_SIMILARITY, StoryIndex

__all__ = [
    "DEFAULT_SIMILARITY",
    "AlertState",
    "StoryIndex",
    "TTLStore",
    "canonical_url",
    "horizon",
    "scope_key",
    "source_of",
]
