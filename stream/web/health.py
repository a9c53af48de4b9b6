"""``/healthz`` (the process answers), ``/readyz`` (partitions assigned, rules loaded) and
``/metrics`` (Prometheus exposition)."""

from __future__ import annotations

from typing import Any

from stream.metrics import METRICS
from stream.runtime import Runtime

__all__ = ["install"]


def install(app: Any, runtime: Runtime) -> None:
    @app.page("/healthz")
    async def healthz(self: Any, request: Any) -> Any:
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: Any, request: Any) -> Any:
        rules = runtime.rules
        body = {
            "ready": runtime.ready,
            "partitions_assigned": runtime.partitions_assigned,
            "articles_group_joined": bool(runtime.intake and runtime.intake.joined),
            "articles_assigned": runtime.articles_assigned.is_set(),
            "rules_watched": runtime.rules_watched.is_set(),
            "rules_version": rules.version,
            "rules": len(rules.ruleset.rules),
            "rule_errors": [str(p) for p in rules.last_errors],
        }
        return self.json(body, status=200 if runtime.ready else 503)

    @app.page("/metrics")
    async def metrics(self: Any, request: Any) -> Any:
        return self.bytes(METRICS.exposition(), content_type="text/plain; version=0.0.4")
