"""Builders shared by the state tests: articles, matches, and a JSON round-tripping store."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from stream.models import Article, EscalationTier, Match, RulePolicy, Threshold

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3600.0
DAY = 24 * HOUR

# Original texts written for these tests: three unrelated stories.
SUMMIT = (
    "Officials in the capital confirmed on Tuesday that the defence minister will not travel "
    "to the regional security meeting planned for next week, citing unresolved disagreements "
    "over the bloc's response to border incidents. A spokesperson for the ministry told "
    "reporters the decision had been taken after lengthy consultations with the cabinet and "
    "was not meant as a final break with partners. Diplomats from neighbouring states said "
    "privately that the empty seat would be noticed and that several delegations had hoped to "
    "settle a dispute over joint exercises. Analysts noted that the government has skipped "
    "three such gatherings this year and has been exploring closer ties with other partners, "
    "fuelling speculation that it could eventually leave the alliance."
)
PORT = (
    "Dock workers at the country's largest container port walked out on Monday morning after "
    "talks over pay and shift patterns collapsed late on Sunday night. The union representing "
    "about four thousand staff said the stoppage would last forty eight hours unless "
    "management returned with an improved offer. Shipping lines warned customers that vessels "
    "could be diverted to smaller terminals along the coast, adding several days to delivery "
    "times for retailers already struggling with stock shortages."
)
LAB = (
    "A mid-sized software company announced on Thursday that it would open a new research "
    "centre in the northern city, creating around three hundred jobs over the next two years. "
    "The firm said the site would focus on tools for translating legal documents and would "
    "work closely with the local university's linguistics department. Regional leaders "
    "welcomed the investment as a sign that the area could attract skilled employers."
)


def copy_of(text: str, outlet: str) -> str:
    """A syndicated copy: the wire text with one word changed and the outlet's own footer."""
    return (
        text.replace("Officials", "Authorities", 1).replace("talks", "negotiations", 1)
        + f" Reporting by the {outlet} newsroom."
    )


def article(
    ident: str,
    body: str,
    *,
    source: str | None = None,
    url: str | None = None,
    title: str = "A headline",
) -> Article:
    return Article(id=ident, title=title, body=body, source=source, url=url)


def match(
    *,
    rule_id: str = "summit-absence",
    entity: str | None = "armenia",
    severity: str = "medium",
    dedup_s: float = 6 * HOUR,
    threshold: tuple[int, float] | None = None,
    escalate: tuple[tuple[int, str], ...] = (),
) -> Match:
    policy = RulePolicy(
        dedup_s=dedup_s,
        threshold=Threshold(sources=threshold[0], within_s=threshold[1]) if threshold else None,
        escalate=tuple(EscalationTier(sources=n, severity=s) for n, s in escalate),
    )
    return Match(
        rule_id=rule_id,
        rule_name=rule_id.replace("-", " "),
        rule_version="1",
        severity=severity,
        entity=entity,
        title=f"{rule_id} on {entity}",
        policy=policy,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class JSONMapping(MutableMapping[str, Any]):
    """Keeps values as JSON text, like a table with a JSON codec: non-JSON values fail, and
    in-place edits of a value read back never reach the store."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        return json.loads(self._data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError("keys must be str")
        self._data[key] = json.dumps(value, allow_nan=False)

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)
