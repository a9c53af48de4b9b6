"""The console's routes on the worker's Faust web server. Wiring only: every page's data comes
from the pure modules beside this one, and every page is rendered by ``render``.

GET pages never change anything. The two POST actions that do (redrive a dead-lettered
delivery, reload rules now) go through :func:`check_admin`; the Playground's POST only reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from aiohttp import web
from faust.web import View

from stream.metrics import METRICS
from stream.models import SEVERITIES, Alert
from stream.runtime import Runtime
from stream.web.console.alerts import AlertQuery, alert_views, destination_key, facets
from stream.web.console.playground import PlaygroundInput, prefill, run_playground
from stream.web.console.render import SECURITY_HEADERS, display_destination, render
from stream.web.console.rules import matches_since_start, rules_page
from stream.web.console.security import Access, check_admin
from stream.web.console.subs import check_alert, subscriptions_page

__all__ = ["SSE_HEARTBEAT_S", "SSE_MAX_S", "install", "sse_event"]

SSE_HEARTBEAT_S = 15.0
SSE_MAX_S = 300.0  # the browser reconnects by itself; bounded streams cannot pile up
_POLL_S = 0.25
_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}


def sse_event(event: str, data: str, ident: int | None = None) -> bytes:
    """One server-sent event; every line of ``data`` gets its own ``data:`` field."""
    lines = [f"event: {event}"]
    if ident is not None:
        lines.append(f"id: {ident}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def _static_files() -> dict[str, bytes]:
    folder = resources.files("stream.web.console") / "static"
    return {name: (folder / name).read_bytes() for name in _STATIC}


def install(app: Any, runtime: Runtime) -> None:
    static = _static_files()
    stopping = asyncio.Event()
    background: set[asyncio.Task[Any]] = set()

    @app.on_before_shutdown.connect
    def _stop_streams(sender: Any, **_: Any) -> None:
        stopping.set()

    def common(page: str) -> dict[str, Any]:
        return {
            "page": page,
            "app_id": runtime.settings.app_id,
            "rules_version": runtime.rules.version,
            "admin_enabled": check_admin(runtime.settings.admin_token, None)
            is not Access.DISABLED,
        }

    def alerts_list(query: AlertQuery) -> str:
        return render(
            "_alert_list.html",
            views=alert_views(runtime.recent, runtime.router, query),
            total=len(runtime.recent),
            **common("alerts"),
        )

    def page(view: View, template: str, status: int = 200, **context: Any) -> Any:
        return view.html(render(template, **context), status=status,
                         headers=dict(SECURITY_HEADERS))

    def message(view: View, status: int, title: str, text: str, back: str) -> Any:
        return page(view, "message.html", status, title=title, text=text, back=back,
                    **common(back.rsplit("/", 1)[-1]))

    def find_alert(alert_id: str) -> Alert | None:
        return next((a for a in runtime.recent if a.id == alert_id), None)

    @app.page("/console")
    class ConsoleIndex(View):
        async def get(self, request: Any) -> Any:
            return self.html("", status=303, headers={"Location": "/console/alerts"})

    @app.page("/console/static/{name}")
    class ConsoleStatic(View):
        async def get(self, request: Any, name: str) -> Any:
            if name not in static:
                return self.text("not found", status=404)
            return self.bytes(static[name], content_type=_STATIC[name],
                              headers={"Cache-Control": "no-cache",
                                       "X-Content-Type-Options": "nosniff"})

    @app.page("/console/alerts")
    class ConsoleAlerts(View):
        async def get(self, request: Any) -> Any:
            query = AlertQuery.parse(request.query)
            return page(self, "alerts.html", query=query, severities=SEVERITIES,
                        facets=facets(runtime.recent), alert_list=alerts_list(query),
                        **common("alerts"))

    @app.page("/console/alerts/events")
    class ConsoleAlertEvents(View):
        async def get(self, request: Any) -> Any:
            query = AlertQuery.parse(request.query)
            response = web.StreamResponse(headers={
                "Content-Type": "text/event-stream", "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            })
            await response.prepare(request)
            started = beat = time.monotonic()
            seen = -1
            try:
                await response.write(b"retry: 2000\n\n")
                while not stopping.is_set() and time.monotonic() - started < SSE_MAX_S:
                    version = runtime.recent.version
                    if version != seen:
                        seen = version
                        await response.write(sse_event("alerts", alerts_list(query), version))
                        beat = time.monotonic()
                    elif time.monotonic() - beat > SSE_HEARTBEAT_S:
                        await response.write(b": keep-alive\n\n")
                        beat = time.monotonic()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), _POLL_S)
            except (ConnectionResetError, asyncio.CancelledError):
                pass  # the browser went away or the server is stopping
            return response

    @app.page("/console/alerts/redrive")
    class ConsoleRedrive(View):
        async def post(self, request: Any) -> Any:
            form = await request.post()
            access = check_admin(runtime.settings.admin_token, form.get("token"))
            if access is not Access.GRANTED:
                return message(self, access.value, "Not allowed", _refusal(access),
                               "/console/alerts")
            alert = find_alert(str(form.get("alert", "")))
            key = str(form.get("destination", ""))
            reported = runtime.recent.outcomes.get(alert.id, {}) if alert else {}
            destination = next((d for d in reported if destination_key(d) == key), None)
            if alert is None or destination is None:
                return message(self, 404, "Nothing to redrive",
                               "That alert or destination is no longer among the recent "
                               "alerts.", "/console/alerts")
            dispatcher = runtime.dispatcher
            if dispatcher is None:
                return message(self, 409, "Delivery is not running",
                               "This worker has no dispatcher yet.", "/console/alerts")
            runtime.recent.delivered(alert.id, destination, "pending")

            async def redrive(alert: Alert = alert) -> None:
                outcome = await dispatcher.deliver(alert, destination, redrive=True)
                runtime.recent.delivered(alert.id, destination, outcome.status)

            task = asyncio.ensure_future(redrive())
            background.add(task)
            task.add_done_callback(background.discard)
            return message(self, 202, "Redrive started",
                           f"Delivering {alert.id} to {display_destination(destination)} "
                           "again; the Alerts page shows the outcome when it is known.",
                           "/console/alerts")

    @app.page("/console/rules")
    class ConsoleRules(View):
        async def get(self, request: Any) -> Any:
            data = rules_page(runtime, datetime.now(UTC),
                              matches_since_start(METRICS.rule_matches))
            return page(self, "rules.html", data=data, **common("rules"))

    @app.page("/console/rules/reload")
    class ConsoleRulesReload(View):
        async def post(self, request: Any) -> Any:
            form = await request.post()
            access = check_admin(runtime.settings.admin_token, form.get("token"))
            if access is not Access.GRANTED:
                return message(self, access.value, "Not allowed", _refusal(access),
                               "/console/rules")
            problems = await asyncio.to_thread(runtime.rules.reload)
            text = (f"Rejected with {len(problems)} problem(s); the previous rules stay live."
                    if problems else f"Rules version {runtime.rules.version} is live.")
            return message(self, 200, "Rules reloaded" if not problems else "Reload rejected",
                           text, "/console/rules")

    @app.page("/console/subscriptions")
    class ConsoleSubscriptions(View):
        async def get(self, request: Any) -> Any:
            file = runtime.settings.subscriptions_file
            params: Mapping[str, str] = request.query
            return page(
                self, "subscriptions.html",
                data=subscriptions_page(runtime.router, str(file) if file else None),
                check=check_alert(params, runtime.router, runtime.rules.ruleset,
                                  runtime.recent),
                params=params, severities=SEVERITIES, rules=runtime.rules.ruleset.rules,
                recent=list(runtime.recent)[:50], **common("subscriptions"),
            )

    def playground(view: View, given: PlaygroundInput, result: Any, status: int = 200) -> Any:
        return page(view, "playground.html", status, given=given, result=result,
                    rules=runtime.rules.ruleset.rules, recent=list(runtime.recent)[:50],
                    **common("playground"))

    @app.page("/console/playground")
    class ConsolePlayground(View):
        async def get(self, request: Any) -> Any:
            alert = find_alert(request.query.get("alert", ""))
            given = prefill(alert) if alert is not None else PlaygroundInput()
            return playground(self, given, None)

        async def post(self, request: Any) -> Any:
            form = await request.post()
            try:
                given = PlaygroundInput(
                    title=str(form.get("title", "")), body=str(form.get("body", "")),
                    rules=tuple(str(r) for r in form.getall("rules", [])),
                    rule_yaml=str(form.get("rule_yaml", "")),
                )
            except ValueError as exc:
                return message(self, 413, "Input too large", str(exc).splitlines()[0],
                               "/console/playground")
            result = await asyncio.to_thread(run_playground, given, runtime.rules.ruleset)
            return playground(self, given, result, 422 if result.problems else 200)


def _refusal(access: Access) -> str:
    if access is Access.DISABLED:
        return ("Admin actions are disabled on this worker: the console is read-only until "
                "NEWSALERT_ADMIN_TOKEN is set.")
    return "The admin token is missing or wrong."
