"""Delivery: from an alert on the alerts topic to Slack, webhooks and the console.

The worker needs four things from here::

    router = build_router(settings, settings.subscriptions_file, dynamic=slash_table)
    sinks = build_sinks(settings, router.subscriptions)
    dispatcher = Dispatcher(sinks, router, ledger_table, dead_letter, RetryPolicy.from_settings(s))
    report = await dispatcher.dispatch(alert)

plus :class:`SlashHandler` for the ``/newsalert`` slash command endpoint and
:func:`watch_subscriptions` to follow edits of the subscriptions file.
"""

from __future__ import annotations

from stream.delivery.base import Receipt, Sink
from stream.delivery.dispatch import DeadLetter, Dispatcher, DispatchReport, Outcome, RetryPolicy
from stream.delivery.ledger import DeliveryLedger
from stream.delivery.reload import reload_subscriptions, watch_subscriptions
from stream.delivery.router import Router, SinkSet, build_router, build_sinks
from stream.delivery.slash import SlashHandler, SlashResponse, handle_slash
from stream.delivery.subscriptions import (
    Filter,
    Subscriptions,
    SubscriptionsError,
    load_subscriptions,
    parse_subscriptions,
)

__all__ = [
    "DeadLetter",
    "DeliveryLedger",
    "DispatchReport",
    "Dispatcher",
    "Filter",
    "Outcome",
    "Receipt",
    "RetryPolicy",
    "Router",
    "Sink",
    "SinkSet",
    "SlashHandler",
    "SlashResponse",
    "Subscriptions",
    "SubscriptionsError",
    "build_router",
    "build_sinks",
    "handle_slash",
    "load_subscriptions",
    "parse_subscriptions",
    "reload_subscriptions",
    "watch_subscriptions",
]
