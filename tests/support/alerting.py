"""Articles that each raise exactly one alert with the shipped rules, for scale and speed runs.

Every article reports a different member state staying away from a WTO (then, once the roster
is used up, a UNESCO) ministerial, so each one lands in its own (rule, entity) scope: no dedup,
threshold or story joins two of them, and the number of alerts equals the number of articles.
Ids and sources are distinct; the wording is varied a little so the articles do not look like
one syndicated story.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from stream.models import Article

__all__ = ["RULE_ID", "alerting_articles", "capacity", "encode", "members", "rule_of"]

RULE_ID = "wto-member-skips-summit"
# Organisation named in the text, and the rule that then fires; both use the same roster.
_ORGS = (("WTO", RULE_ID), ("UNESCO", "unesco-member-skips-summit"))

_REPO = Path(__file__).resolve().parents[2]

# Members whose names are plain and unambiguous in running text; checked by
# tests/integration/test_scale_out.py::test_every_generated_article_alerts_once.
_MEMBERS = (
    "Albania", "Angola", "Argentina", "Australia", "Austria", "Bahrain", "Bangladesh",
    "Belgium", "Bolivia", "Botswana", "Brazil", "Bulgaria", "Burundi", "Cambodia", "Cameroon",
    "Canada", "Chile", "Colombia", "Croatia", "Cyprus", "Denmark", "Ecuador", "Egypt",
    "Estonia", "Finland", "France", "Gabon", "Germany", "Ghana", "Greece", "Guatemala",
    "Honduras", "Hungary", "Iceland", "India", "Indonesia", "Ireland", "Italy", "Japan",
    "Kazakhstan", "Kenya", "Kuwait", "Latvia", "Lithuania", "Luxembourg", "Madagascar",
    "Malawi", "Malaysia", "Mongolia", "Morocco", "Mozambique", "Namibia", "Nepal", "Nigeria",
    "Norway", "Pakistan", "Paraguay", "Peru", "Poland", "Portugal", "Qatar", "Romania",
    "Rwanda", "Senegal", "Slovakia", "Slovenia", "Spain", "Sweden", "Switzerland", "Tanzania",
    "Thailand", "Tunisia", "Uganda", "Ukraine", "Uruguay", "Vietnam", "Zambia", "Zimbabwe",
)

_OPENINGS = (
    "{m} will skip the {org} ministerial conference next month, its foreign ministry said.",
    "{m} is to boycott the {org} ministerial meeting, officials confirmed.",
    "The government of {m} said it will not attend the {org} ministerial conference.",
)
_CONTEXT = (
    "The decision follows a dispute over farm subsidies and fishing quotas.",
    "Diplomats said the move reflects frustration with stalled talks on tariffs.",
    "Trade officials gave no further detail about the delegation's plans.",
)


def members() -> tuple[str, ...]:
    return _MEMBERS


def capacity() -> int:
    """How many articles with distinct alerts one consumer group's state can be given."""
    return len(_MEMBERS) * len(_ORGS)


def alerting_articles(count: int, tag: str, *, start: int = 0) -> list[Article]:
    """``count`` articles, each alerting once, for distinct (organisation, member) pairs."""
    if start + count > capacity():
        raise ValueError(f"only {capacity()} distinct alerts; asked for {start + count}")
    out = []
    for i in range(start, start + count):
        org, _ = _ORGS[i // len(_MEMBERS)]
        member = _MEMBERS[i % len(_MEMBERS)]
        body = " ".join((_OPENINGS[i % 3].format(m=member, org=org), _CONTEXT[i % 3]))
        out.append(Article(
            id=f"{tag}-wto-{i:03d}",
            title=f"Trade envoys from {member} to stay home",
            body=body,
            url=f"https://wire{i}.example.com/trade/{tag}-{i}",
            source=f"Wire {i}",
            published_at=datetime.now(UTC),
            language="en",
        ))
    return out


def rule_of(index: int) -> str:
    """The rule the ``index``-th generated article fires."""
    return _ORGS[index // len(_MEMBERS)][1]


def encode(article: Article) -> tuple[bytes, bytes]:
    """Kafka key and value of an article, as ``newsalert produce`` would write them."""
    return article.id.encode(), json.dumps(article.model_dump(mode="json")).encode()
