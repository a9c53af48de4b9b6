"""Webhook destination: the alert JSON, signed per the Standard Webhooks specification.

``webhook-id`` is the alert id, so a receiver that sees a retry (or a redrive) can drop the
duplicate; the signature covers id, timestamp and body, so any Standard Webhooks library can
verify it. Outbound requests to loopback, link-local or private addresses are refused unless
the destination allows them, so a subscriptions file cannot be used to probe the inside network.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from stream.delivery.base import Receipt
from stream.errors import ConfigError, DeliveryError
from stream.models import Alert

__all__ = [
    "Resolver",
    "WebhookRequest",
    "WebhookSink",
    "build_payload",
    "check_destination",
    "check_url",
    "make_signer",
]

USER_AGENT = "newsalert-webhook/1"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """Exactly what goes on the wire: body bytes and headers."""

    body: bytes
    headers: dict[str, str]


def make_signer(secret: str) -> Webhook:
    """Validate a ``whsec_...`` secret once, at configuration time, not on the first alert."""
    problem = ConfigError("webhook secret is not a Standard Webhooks secret (whsec_<base64>)")
    encoded = secret.removeprefix("whsec_")
    if encoded == secret or not encoded:
        raise problem
    try:
        base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        return Webhook(secret)
    except Exception as exc:
        raise problem from exc


def build_payload(
    alert: Alert,
    *,
    now: float,
    signer: Webhook | None = None,
    headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    """Body and headers for ``alert`` at wall-clock time ``now`` (seconds since the epoch).

    Custom headers come first so they can never replace the signature headers.
    """
    body = alert.model_dump_json()
    timestamp = int(now)
    out = {k: v for k, v in (headers or {}).items() if not k.lower().startswith("webhook-")}
    out.update(
        {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": alert.id,
            "webhook-timestamp": str(timestamp),
        }
    )
    if signer is not None:
        out["webhook-signature"] = signer.sign(
            msg_id=alert.id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body
        )
    return WebhookRequest(body=body.encode(), headers=out)


def _is_blocked(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


def _refusal(url: str, host: str, ip: str) -> ConfigError:
    return ConfigError(
        f"webhook {url}: {host} resolves to {ip}, a loopback/link-local/private address; "
        "set allow_private: true on this destination (or NEWSALERT_ALLOW_PRIVATE_DESTINATIONS="
        "true) if that is intended"
    )


def check_url(url: str, *, allow_private: bool) -> tuple[str, int]:
    """Reject what is wrong without a DNS lookup: scheme, host, literal private addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"webhook {url}: scheme must be http or https")
    host = parts.hostname
    if not host:
        raise ConfigError(f"webhook {url}: no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ConfigError(f"webhook {url}: bad port") from exc
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise _refusal(url, host, "loopback")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and _is_blocked(literal):
            raise _refusal(url, host, str(literal))
    return host, port


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_destination(
    url: str, *, allow_private: bool, resolve: Resolver = _system_resolver
) -> None:
    """Raise ``ConfigError`` if any address ``url``'s host resolves to is not public."""
    host, port = check_url(url, allow_private=allow_private)
    if allow_private:
        return
    for address in await resolve(host, port):
        if _is_blocked(ipaddress.ip_address(address.split("%", 1)[0])):
            raise _refusal(url, host, address)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class WebhookSink:
    """POSTs signed alert JSON to one URL with its own timeout and headers; TLS verified."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        allow_private: bool = False,
        wall_clock: Callable[[], float] = time.time,
        resolve: Resolver = _system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        check_url(url, allow_private=allow_private)
        self._name = name
        self.url = url
        self._signer = make_signer(secret) if secret else None
        self._headers = dict(headers or {})
        self._timeout_s = timeout_s
        self._allow_private = allow_private
        self._wall_clock = wall_clock
        self._resolve = resolve
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def min_interval_s(self) -> float:
        return 0.0

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout_s),
                verify=True,
                follow_redirects=False,
                transport=self._transport,
            )
        return self._client

    async def send(self, alert: Alert, thread: Receipt | None) -> Receipt:
        """POST once; 2xx is success, 408/429/5xx and network errors are retryable."""
        del thread  # webhooks carry thread_id in the body; receivers thread themselves
        try:
            await check_destination(
                self.url, allow_private=self._allow_private, resolve=self._resolve
            )
        except ConfigError as exc:
            raise DeliveryError(str(exc), retryable=False) from exc
        except OSError as exc:
            raise DeliveryError(f"webhook {self.url}: DNS: {exc}", retryable=True) from exc
        request = build_payload(
            alert, now=self._wall_clock(), signer=self._signer, headers=self._headers
        )
        try:
            response = await self._http().post(
                self.url, content=request.body, headers=request.headers
            )
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook {self.url}: timed out", retryable=True) from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"webhook {self.url}: {exc!r}", retryable=True) from exc
        status = response.status_code
        if 200 <= status < 300:
            return Receipt(destination=self._name, status_code=status)
        retryable = status in (408, 425, 429) or status >= 500
        raise DeliveryError(
            f"webhook {self.url}: HTTP {status}",
            retryable=retryable,
            retry_after=_retry_after(response) if retryable else None,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
