"""The Apache Kafka broker's jars: fetched once from Maven Central, cached per version.

Kept apart from the broker process code so fetching (Maven, a file lock, a staged rename) and
running (ports, KRaft format, signals) can each be read on their own.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from stream.errors import BrokerError

__all__ = ["KAFKA_VERSION", "default_jars_dir", "fetch_jars", "find_java"]

log = logging.getLogger("stream.broker.apache")

KAFKA_VERSION = os.environ.get("NEWSALERT_KAFKA_VERSION", "4.1.1")
_COMPLETE = ".complete"
_REPO_POM = Path(__file__).resolve().parents[2] / "tests" / "kafka" / "pom.xml"


def default_jars_dir(version: str = KAFKA_VERSION) -> Path:
    """Where the jars of ``version`` are cached: outside the work tree, so fresh clones share it.

    ``NEWSALERT_KAFKA_JARS`` overrides it, e.g. to point at a CI cache.
    """
    override = os.environ.get("NEWSALERT_KAFKA_JARS")
    if override:
        return Path(override)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "newsalert" / f"kafka-{version}"


def fetch_jars(
    version: str = KAFKA_VERSION,
    dest: Path | None = None,
    pom: Path | None = None,
    timeout: float = 900.0,
) -> Path:
    """Return a directory holding the broker's runtime jars, fetching them only when missing.

    The copy goes to a sibling temporary directory and is renamed into place once complete,
    under a file lock, so an interrupted fetch or two test processes at once never leave a
    half-filled cache that later runs would trust.
    """
    dest = dest or default_jars_dir(version)
    # Our own fetches land whole (staged, then renamed), so a directory holding the broker jar
    # is complete: either ours, or one the user pointed at with NEWSALERT_KAFKA_JARS.
    if (dest / _COMPLETE).exists() or any(dest.glob("kafka_2.13-*.jar")):
        return dest
    pom = pom or _REPO_POM
    if not pom.exists():
        raise BrokerError(f"no Kafka jars in {dest} and no {pom} to fetch them with")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            f"no Kafka jars in {dest} and Maven is missing: install it "
            "(apt-get install maven) or run tests/kafka/setup.sh"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f".{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (dest / _COMPLETE).exists():  # another process fetched while we waited
            return dest
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
        cmd = [
            mvn, "-B", "-q", "-f", str(pom), f"-Dkafka.version={version}",
            "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        log.info("fetching Apache Kafka %s jars into %s", version, dest)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(f"fetching Kafka {version} jars took over {timeout:.0f}s") from exc
        jars = sorted(p.name for p in staging.glob("*.jar"))
        if done.returncode != 0 or f"kafka_2.13-{version}.jar" not in jars:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            raise BrokerError(
                f"mvn could not fetch Kafka {version} (status {done.returncode}):\n{tail}"
            )
        (staging / _COMPLETE).write_text("\n".join(jars) + "\n")
        try:
            os.replace(staging, dest)  # replaces an empty directory, never a populated one
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(f"{dest} exists and holds no Kafka jars: remove it") from exc
    return dest


def find_java() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` when set, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java 17+ is needed for Apache Kafka: apt-get install openjdk-17-jre")
    return java
