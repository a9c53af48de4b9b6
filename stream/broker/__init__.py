"""Broker processes the project runs itself: the embedded Tansu broker and Apache Kafka.

Both expose the same small shape (``bootstrap``, ``start()``, ``stop()``, context manager) so
the worker and the tests can treat them alike; ``topics`` creates topics on either, since
neither creates them on first use here.
"""

from __future__ import annotations

from stream.broker.tansu import EmbeddedBroker, free_port, wait_until_ready
from stream.broker.topics import TopicSpec, ensure_topics

__all__ = ["EmbeddedBroker", "TopicSpec", "ensure_topics", "free_port", "wait_until_ready"]
