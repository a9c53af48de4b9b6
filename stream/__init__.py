"""newsalert: news articles from Kafka, declarative YAML rules, alerts to Slack and webhooks."""

__all__ = ["__version__"]

__version__ = "0.1.0"
