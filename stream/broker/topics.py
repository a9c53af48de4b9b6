"""Explicit topic creation: Tansu creates no topic on first use, and we keep Apache Kafka honest
with ``auto.create.topics.enable=false``, so the worker creates what it needs up front."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from stream.errors import BrokerError

__all__ = ["TopicSpec", "ensure_topics"]


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    partitions: int = Field(1, ge=1)
    replication: int = Field(1, ge=1)
    compacted: bool = False


def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec], timeout_s: float = 30.0) -> None:
    """Create the missing topics among ``specs``; existing ones are left as they are."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="newsalert-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                name=s.name,
                num_partitions=s.partitions,
                replication_factor=s.replication,
                topic_configs={"cleanup.policy": "compact"} if s.compacted else {},
            )
            for s in specs
            if s.name not in existing
        ]
        if not missing:
            return
        try:
            admin.create_topics(missing, timeout_ms=int(timeout_s * 1000))
        except TopicAlreadyExistsError:
            pass
        except Exception as exc:
            raise BrokerError(f"cannot create topics {[t.name for t in missing]}: {exc}") from exc
    finally:
        admin.close()
