"""Runtime configuration, read from ``NEWSALERT_*`` environment variables or a ``.env`` file.

The README's settings table is generated from this class's field descriptions; a test keeps
the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "settings_table"]


class Settings(BaseSettings):
    """All settings of the worker and the CLI."""

    @property
    def articles_dlq_topic(self) -> str:
        return f"{self.articles_topic}.dlq"

    @property
    def alerts_dlq_topic(self) -> str:
        return f"{self.alerts_topic}.dlq"

    @property
    def subscriptions_topic(self) -> str:
        """Compacted topic of Slack slash-command subscriptions, shared by all workers."""
        return f"{self.app_id}.subscriptions"

    model_config = SettingsConfigDict(
        env_prefix="NEWSALERT_", env_file=".env", extra="ignore", frozen=True
    )

    kafka_bootstrap: str | None = Field(
        None,
        description="Kafka bootstrap servers (host:port,...). Unset: start the embedded broker.",
    )
    app_id: str = Field(
        "newsalert",
        description="Faust app id and consumer group id; articles are read by the group "
        "`<app id>-ingest`.",
    )
    rules_dir: Path = Field(Path("rules"), description="Directory of YAML rule packs to load.")
    articles_topic: str = Field("articles", description="Topic the worker reads articles from.")
    alerts_topic: str = Field("alerts", description="Topic matched alerts are written to.")
    matches_topic: str = Field(
        "matches", description="Internal topic: matches keyed by rule and entity, for state."
    )
    partitions: int = Field(4, ge=1, description="Partitions for topics the worker creates.")
    replication_factor: int = Field(
        1,
        ge=1,
        description="Replicas of every topic the worker creates, changelogs included (3 on a "
        "production cluster; 1 on the embedded broker).",
    )
    data_dir: Path = Field(
        Path(".newsalert-data"), description="Directory for the worker's local state."
    )
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the worker's web server.")
    web_host: str = Field("127.0.0.1", description="Address the worker's web server binds.")
    store: str = Field("memory://", description="Faust table store (memory:// or rocksdb://).")
    slack_token: str | None = Field(None, description="Slack bot token (xoxb-...).")
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (point at a local server)."
    )
    slack_channels: list[str] = Field(
        default_factory=list, description="Slack channels that receive every alert (JSON list)."
    )
    webhook_urls: list[str] = Field(
        default_factory=list, description="Webhook URLs that receive every alert (JSON list)."
    )
    webhook_secret: str | None = Field(
        None, description="Standard Webhooks signing secret (whsec_...); unset: unsigned."
    )
    console_alerts: bool = Field(True, description="Print each alert as a console line.")
    allow_private_destinations: bool = Field(
        False, description="Allow webhooks to loopback/private addresses (tests, demos)."
    )
    rebalance_timeout_s: float | None = Field(
        None,
        description="Consumer-group rebalance timeout; unset: 3 s on the embedded broker, "
        "60 s on Kafka.",
    )
    producer_batch_bytes: int | None = Field(
        None,
        ge=1,
        description="Largest producer batch in bytes; unset: one record per batch on the embedded "
        "broker (so its end offsets stay exact for changelog recovery), 16384 on Kafka.",
    )
    fetch_max_wait_ms: int | None = Field(
        None,
        ge=0,
        description="Longest time the broker may hold a consumer fetch that has no records yet; "
        "unset: 100 ms on the embedded broker (it holds a fetch this long even when records "
        "arrive), 1500 ms on Kafka.",
    )
    subscriptions_file: Path | None = Field(
        None, description="YAML file of destinations and routes (see docs/delivery.md)."
    )
    slack_signing_secret: str | None = Field(
        None, description="Slack signing secret for the /newsalert slash command endpoint."
    )
    slack_min_interval_s: float = Field(
        1.0, ge=0, description="Pacing between two Slack messages to one channel (seconds)."
    )
    delivery_max_attempts: int = Field(
        6, ge=1, description="Attempts per alert and destination before it is dead-lettered."
    )
    delivery_budget_s: float = Field(
        300.0, gt=0, description="Longest time spent retrying one delivery before dead letter."
    )
    delivery_backoff_s: float = Field(
        0.5, gt=0, description="First retry delay; doubles per attempt, with jitter."
    )
    delivery_backoff_max_s: float = Field(
        30.0, gt=0, description="Longest delay between two retries."
    )
    log_level: str = Field("INFO", description="Log level of the worker.")
    log_format: Literal["json", "text"] = Field(
        "text",
        description="Worker log format: `json` (one object per line, for collectors) or `text`.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Token that unlocks the console's state-changing actions; unset: read-only.",
    )


def settings_table() -> str:
    """The README settings table, rendered from the field descriptions (a test keeps it true)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `NEWSALERT_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
