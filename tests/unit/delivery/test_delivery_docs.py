"""Every example in docs/delivery.md works, and docs/webhook-schema.json is current."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from stream.cli import _register, app
from stream.delivery.schema import alert_json_schema, render
from stream.delivery.slash import SlashHandler
from stream.delivery.subscriptions import load_subscriptions, parse_subscriptions
from stream.delivery.webhook import build_payload, make_signer
from stream.models import Alert

AlertFactory = Callable[..., Alert]
ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "delivery.md"
EXAMPLE = ROOT / "docs" / "subscriptions.example.yml"
SCHEMA = ROOT / "docs" / "webhook-schema.json"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_yaml_examples_are_valid_subscriptions() -> None:
    blocks = _blocks("yaml")
    assert blocks
    for block in blocks:
        subs = parse_subscriptions(block, file="docs/delivery.md")
        assert subs.routes
    assert len(load_subscriptions(EXAMPLE).destinations) == 4


def test_slash_examples_are_accepted() -> None:
    [block] = _blocks("text")
    store: dict[str, Any] = {}
    handler = SlashHandler("doc-secret", store)
    now = time.time()
    replies = []
    for line in block.strip().splitlines():
        text = line.removeprefix("/newsalert ").strip()
        body = urlencode({"text": text, "channel_id": "C0DOCS", "user_id": "U1"}).encode()
        base = f"v0:{int(now)}:".encode() + body
        signature = "v0=" + hmac.new(b"doc-secret", base, hashlib.sha256).hexdigest()
        headers = {"X-Slack-Request-Timestamp": str(int(now)), "X-Slack-Signature": signature}
        response = handler.handle(headers, body, now)
        assert response.status == 200
        replies.append(response.body["text"])
    assert replies[0] == "subscribed this channel to tag:csto min:high"
    assert replies[1].startswith("subscribed this channel to rule:*-member-withdraws")
    assert "1. tag:csto min:high" in replies[2]
    assert replies[3].startswith("unsubscribed") and replies[4].startswith("removed all 1")


def test_python_receiver_example_verifies_our_signature(make_alert: AlertFactory) -> None:
    [block] = _blocks("python")
    namespace: dict[str, Any] = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    accept = namespace["accept"]
    secret = "whsec_" + "ZG9jcy1leGFtcGxlLXNlY3JldA=="
    request = build_payload(make_alert(), now=time.time(), signer=make_signer(secret))
    assert accept(request.body, request.headers, secret)["id"] == make_alert().id
    assert accept(request.body + b" ", request.headers, secret) is None


def _console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) pairs from ```console blocks."""
    pairs: list[tuple[str, list[str]]] = []
    for block in _blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, *output = chunk.rstrip("\n").split("\n")
            pairs.append((command, output))
    return pairs


def test_cli_examples_print_what_the_doc_shows(
    make_alert: AlertFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("NEWSALERT_CONSOLE_ALERTS", "NEWSALERT_SLACK_CHANNELS", "NEWSALERT_WEBHOOK_URLS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT)
    alert = make_alert(rule_id="csto-member-skips-summit", tags=("csto", "summit"))
    (tmp_path / "alert.json").write_text(alert.model_dump_json())
    _register()
    runner = CliRunner()
    checked = 0
    for command, expected in _console_examples():
        if not command.startswith("newsalert subscriptions"):
            continue
        args = command.split()[1:]
        args = [str(tmp_path / "alert.json") if a == "alert.json" else a for a in args]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        lines = result.output.rstrip("\n").split("\n")
        assert len(lines) == len(expected)
        for got, want in zip(lines, expected, strict=True):
            assert re.fullmatch(re.escape(want).replace(r"\.\.\.", r"\S+"), got), (got, want)
        checked += 1
    assert checked == 2


def test_cli_expect_fails_on_a_routing_surprise(make_alert: AlertFactory, tmp_path: Path) -> None:
    (tmp_path / "alert.json").write_text(make_alert().model_dump_json() + "\n")
    _register()
    args = ["subscriptions", "test", "--alert", str(tmp_path / "alert.json")]
    args += ["--file", str(EXAMPLE), "--expect", "terminal"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    bad = tmp_path / "bad.yml"
    bad.write_text("routes:\n  - to: [nowhere]\n")
    result = CliRunner().invoke(app, ["subscriptions", "check", "--file", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.output


def test_webhook_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == render(), (
        "docs/webhook-schema.json is stale: run "
        "python -m stream.delivery.schema docs/webhook-schema.json"
    )


def test_schema_describes_every_alert_field(make_alert: AlertFactory) -> None:
    schema = alert_json_schema()
    wire = json.loads(make_alert().model_dump_json())
    assert set(schema["properties"]) == set(wire)
    assert set(schema["required"]) <= set(wire)
    assert schema["properties"]["schema_version"]["default"] == wire["schema_version"] == 1
