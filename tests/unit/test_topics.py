"""The topics the worker creates, and their replication, follow the settings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stream.app import create_app
from stream.cli import _register
from stream.cli import app as cli
from stream.settings import Settings
from stream.topics import LEDGER_TABLE, STATE_TABLE, changelog, topic_specs


@pytest.mark.parametrize("replicas", [1, 3])
def test_every_topic_and_changelog_gets_the_configured_replicas(
    replicas: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSALERT_REPLICATION_FACTOR", str(replicas))
    settings = Settings()
    specs = topic_specs(settings)
    assert {s.replication for s in specs} == {replicas}
    assert {s.name for s in specs} >= {settings.articles_topic, settings.alerts_topic}
    # Faust would declare the changelogs itself, from the app's replication setting.
    faust_app = create_app(settings, "127.0.0.1:9", embedded=False)
    assert faust_app.conf.topic_replication_factor == replicas


def test_replication_factor_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_REPLICATION_FACTOR", "0")
    with pytest.raises(ValueError, match="replication_factor"):
        Settings()


def test_run_refuses_more_than_one_replica_on_the_embedded_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEWSALERT_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("NEWSALERT_REPLICATION_FACTOR", "3")
    _register()
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "NEWSALERT_REPLICATION_FACTOR=3" in result.output
    assert "single node" in result.output


def test_table_changelogs_are_created_with_the_other_topics() -> None:
    """A worker must find its tables' changelogs in place: one declared by Faust at start-up
    may not be visible yet when the table first writes, and that write fails."""
    settings = Settings()
    specs = {s.name: s for s in topic_specs(settings)}
    faust_app = create_app(settings, "127.0.0.1:9", embedded=False)
    for name in (STATE_TABLE, LEDGER_TABLE):
        table = faust_app.tables[name]
        spec = specs[changelog(settings.app_id, name)]
        assert spec.name == table.changelog_topic.get_topic_name()
        assert (spec.partitions, spec.compacted) == (settings.partitions, True)
