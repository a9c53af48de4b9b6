"""Replay and backtest: what rules would have done on traffic already in a topic or a file.

Nothing here touches production: topics are read by a consumer without a group (no commits),
alert state is a fresh ``dict`` per run, and alerts go nowhere unless the caller delivers
them. The pieces compose::

    reader = TopicReader(bootstrap, "articles", TopicRange(since=parse_time("7d")))
    for alert in Replayer(load_rules([Path("rules")])).run(reader):   # merged by timestamp
        ...
    report = backtest(file_records(path), baseline, candidate)       # added/removed/changed
    result = check_suite(load_suite(suite_path), ruleset)             # pinned counts per rule
"""

from __future__ import annotations

from stream.replay.backtest import AlertBrief, BacktestReport, Change, RuleDiff, backtest
from stream.replay.model import (
    ReplayError,
    SourceRecord,
    SuiteError,
    TopicRange,
    parse_offsets,
    parse_time,
)
from stream.replay.reader import PartitionPlan, TopicReader, file_records
from stream.replay.run import Invalid, Replayer, ReplayStats, parse_record
from stream.replay.suite import RuleCheck, Suite, SuiteResult, SuiteTopic, check_suite, load_suite

__all__ = [
    "AlertBrief",
    "BacktestReport",
    "Change",
    "Invalid",
    "PartitionPlan",
    "ReplayError",
    "ReplayStats",
    "Replayer",
    "RuleCheck",
    "RuleDiff",
    "SourceRecord",
    "Suite",
    "SuiteError",
    "SuiteResult",
    "SuiteTopic",
    "TopicRange",
    "TopicReader",
    "backtest",
    "check_suite",
    "file_records",
    "load_suite",
    "parse_offsets",
    "parse_record",
    "parse_time",
]
