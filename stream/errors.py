"""The one exception root of newsalert.

Every error the project raises on purpose derives from :class:`NewsalertError`, so a caller
can catch everything of ours with one clause. Where an error specialises a builtin meaning
(a bad value, a missing file, a failed connection) it also inherits that builtin, so code that
only knows the standard library still catches it.

    NewsalertError
    ├── ConfigError (ValueError)            settings or a destination file are wrong
    ├── ArticleError (ValueError)           an input message is not a valid article
    ├── RuleError (ValueError)              one or more rule-file problems, each with file:line
    ├── BrokerError (RuntimeError)          the embedded / reference broker failed to start or stop
    └── DeliveryError (RuntimeError)        a destination refused or failed; says if retryable
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ArticleError",
    "BrokerError",
    "ConfigError",
    "DeliveryError",
    "NewsalertError",
    "Problem",
    "RuleError",
]


class NewsalertError(Exception):
    """Root of every error newsalert raises deliberately."""


class ConfigError(NewsalertError, ValueError):
    """Settings, a subscriptions file or a destination definition are invalid."""


class ArticleError(NewsalertError, ValueError):
    """A message on the articles topic is not a valid article (bad JSON, missing field...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One user-fixable problem in a rule file, located to the character."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleError(NewsalertError, ValueError):
    """Rule files were rejected; ``problems`` lists every error found, each with file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid rules")


class BrokerError(NewsalertError, RuntimeError):
    """A broker process could not be started, reached or stopped."""


class DeliveryError(NewsalertError, RuntimeError):
    """A destination failed to accept an alert.

    ``retryable`` tells dispatch whether trying again can help (timeouts, 5xx, 429) or not
    (a rejected token, a 4xx). ``retry_after`` carries a server-given wait in seconds.
    """

    def __init__(
        self, message: str, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
