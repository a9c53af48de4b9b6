"""Who may change state from the console: only a caller presenting the configured admin token.

With no token configured every state-changing action is refused (the console is read-only);
the token is compared in constant time and never rendered back.
"""

from __future__ import annotations

import hmac
from enum import Enum

from pydantic import SecretStr

__all__ = ["Access", "check_admin"]


class Access(Enum):
    """The answer to one attempted admin action, with the HTTP status that says it."""

    GRANTED = 200
    DISABLED = 403
    DENIED = 401


def check_admin(configured: SecretStr | None, supplied: str | None) -> Access:
    if configured is None or not configured.get_secret_value():
        return Access.DISABLED
    if not supplied:
        return Access.DENIED
    expected = configured.get_secret_value().encode()
    if hmac.compare_digest(expected, supplied.encode()):
        return Access.GRANTED
    return Access.DENIED
