"""Webhook request building and outbound address checks (the pure parts)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from stream.delivery.webhook import build_payload, check_destination, check_url, make_signer
from stream.errors import ConfigError
from stream.models import Alert

AlertFactory = Callable[..., Alert]
SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXdlYmhvb2tz"
NOW = 1_777_000_000.0


def test_request_is_the_alert_json_signed_for_standard_webhooks(make_alert: AlertFactory) -> None:
    alert = make_alert()
    request = build_payload(alert, now=time.time(), signer=make_signer(SECRET))
    assert json.loads(request.body) == json.loads(alert.model_dump_json())
    assert request.headers["webhook-id"] == alert.id
    assert request.headers["content-type"] == "application/json"
    verified = Webhook(SECRET).verify(request.body, request.headers)
    assert verified["id"] == alert.id and verified["schema_version"] == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace(b"Armenia", b"Armenio"), request.headers)


def test_signature_is_deterministic_for_id_time_and_body(make_alert: AlertFactory) -> None:
    signer = make_signer(SECRET)
    a = build_payload(make_alert(), now=NOW, signer=signer)
    b = build_payload(make_alert(), now=NOW + 0.9, signer=signer)
    c = build_payload(make_alert(), now=NOW + 1, signer=signer)
    assert a.headers["webhook-timestamp"] == str(int(NOW))
    assert a.headers["webhook-signature"] == b.headers["webhook-signature"]
    assert a.headers["webhook-signature"] != c.headers["webhook-signature"]
    assert a.headers["webhook-signature"].startswith("v1,")


def test_custom_headers_cannot_replace_signature_headers(make_alert: AlertFactory) -> None:
    request = build_payload(
        make_alert(),
        now=NOW,
        headers={"X-Team": "eurasia", "webhook-id": "forged", "Webhook-Signature": "v1,x"},
    )
    assert request.headers["X-Team"] == "eurasia"
    assert request.headers["webhook-id"] == make_alert().id
    assert "webhook-signature" not in request.headers  # unsigned without a secret
    assert "Webhook-Signature" not in request.headers


@pytest.mark.parametrize("secret", ["", "whsec_!!!", "plain text secret"])
def test_bad_secrets_are_config_errors(secret: str) -> None:
    with pytest.raises(ConfigError, match="whsec_"):
        make_signer(secret)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.org/x", True),
        ("http://93.184.216.34/x", True),
        ("http://127.0.0.1:8080/x", False),
        ("http://localhost/x", False),
        ("http://api.localhost/x", False),
        ("http://10.1.2.3/x", False),
        ("http://192.168.0.10/x", False),
        ("http://172.16.5.4/x", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://[::1]/x", False),
        ("http://[fe80::1]/x", False),
        ("http://[::ffff:127.0.0.1]/x", False),
        ("http://0.0.0.0/x", False),
        ("http://100.64.0.1/x", False),
    ],
)
def test_literal_addresses(url: str, allowed: bool) -> None:
    if allowed:
        check_url(url, allow_private=False)
    else:
        with pytest.raises(ConfigError, match="allow_private"):
            check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.org/x", "scheme"),
        ("https:///x", "no host"),
        ("https://hooks.example.org:99999/x", "bad port"),
    ],
)
def test_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("addresses", "allowed"),
    [
        (["93.184.216.34"], True),
        (["93.184.216.34", "10.0.0.7"], False),
        (["2606:2800:220:1:248:1893:25c8:1946"], True),
        (["fe80::1%eth0"], False),
    ],
)
async def test_names_are_checked_after_resolution(addresses: list[str], allowed: bool) -> None:
    seen: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return addresses

    url = "https://hooks.example.org/x"
    if allowed:
        await check_destination(url, allow_private=False, resolve=resolve)
    else:
        with pytest.raises(ConfigError, match=r"hooks\.example\.org resolves to"):
            await check_destination(url, allow_private=False, resolve=resolve)
    assert seen == [("hooks.example.org", 443)]
    await check_destination(url, allow_private=True, resolve=resolve)
    assert len(seen) == 1  # no lookup needed when private addresses are allowed
