"""Operators' routes: ``{prefix}/health`` (cheap, or ``?deep=1``) and ``{prefix}/metrics``."""

from __future__ import annotations

import hmac
import json
import logging
import typing as t

from flask import Blueprint
from flask import request
from flask import Response
from sqlalchemy import text

from .backends import backend_for
from .metrics import exposition
from .metrics import Gauge
from .outages import DATABASE_UNAVAILABLE

if t.TYPE_CHECKING:
    from .extension import AppState
    from .extension import RPDE
    from .sessions import SessionSource

__all__ = ["PROMETHEUS_TEXT", "register_monitoring_routes"]

logger = logging.getLogger("rpde_publisher")

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def register_monitoring_routes(blueprint: Blueprint, extension: RPDE) -> None:
    """Add the health and metrics routes to the feeds' blueprint."""

    @blueprint.get("/health")
    def health() -> Response:
        if request.args.get("deep", "").lower() not in ("1", "true", "yes"):
            return _json(200, {"status": "ok"})  # the process answers: no database work
        state = extension.state()
        checks = {"database": _database_check(extension, state.sessions)}
        if state.read_sessions is not state.sessions:
            checks["read_database"] = _database_check(extension, state.read_sessions)
        checks["cache"] = _cache_check(state)
        databases_ok = all(checks[key] == "ok" for key in checks if key != "cache")
        status = ("ok" if checks["cache"] == "ok" else "degraded") if databases_ok else "failing"
        return _json(200 if databases_ok else 503, {"status": status, "checks": checks})

    @blueprint.get("/metrics")
    def metrics() -> Response:
        state = extension.state()
        token = state.settings.metrics_token
        if token is None:
            return _json(
                404,
                {
                    "error": "metrics_off",
                    "message": "Metrics are off: set RPDE_METRICS_TOKEN to turn them on.",
                },
            )
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = _json(
                401,
                {
                    "error": "unauthorized",
                    "message": "Send 'Authorization: Bearer <RPDE_METRICS_TOKEN>'.",
                },
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="rpde metrics"'
            return response
        totals, shared = state.metrics.totals()
        names = [feed.name for feed in extension.feeds]
        body = exposition(totals, _lag_gauges(extension, state), names, shared=shared)
        response = Response(body, content_type=PROMETHEUS_TEXT)
        response.headers["Cache-Control"] = "no-store"
        return response


def _database_check(extension: RPDE, sessions: SessionSource) -> str:
    feed = next(iter(extension.feeds), None)
    if feed is None:
        return "no feeds registered"
    timeout = extension.state().settings.statement_timeout
    try:
        with sessions.connection(feed.spec.table, statement_timeout=timeout) as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        return "ok"
    except DATABASE_UNAVAILABLE as exc:
        logger.warning("Health check: the database did not answer: %s", exc)
        return "unavailable"


def _cache_check(state: AppState) -> str:
    if not state.cache.available:
        return "unavailable (failed recently)"
    try:
        state.cache.cache.get(state.cache.key_prefix + "health-check")
        return "ok"
    except Exception as exc:
        logger.warning("Health check: the page cache did not answer: %s", exc)
        return "unavailable"


def _lag_gauges(extension: RPDE, state: AppState) -> list[Gauge]:
    """Each feed's lag as its readers see it (on the read database), and whether it answered."""
    gauges: list[Gauge] = []
    settings = state.settings
    try:
        for feed in extension.feeds:
            with state.read_sessions.connection(
                feed.spec.table, statement_timeout=settings.statement_timeout
            ) as connection:
                lag = backend_for(connection.dialect).lag(
                    feed.spec, connection, settings.settle_seconds
                )
            gauges += [
                Gauge(
                    "rpde_feed_hidden_changes",
                    "Committed changes the feed does not show yet.",
                    feed.name,
                    lag.hidden_changes,
                ),
                Gauge(
                    "rpde_feed_lag_seconds",
                    "Age of what holds the feed back (an open write transaction, or the"
                    " settle lag).",
                    feed.name,
                    lag.seconds,
                ),
            ]
        up = 1.0
    except DATABASE_UNAVAILABLE as exc:
        logger.warning("Metrics: the read database did not answer: %s", exc)
        up = 0.0
    gauges.append(Gauge("rpde_database_up", "1 if the feeds' read database answered.", None, up))
    return gauges


def _json(status: int, body: dict[str, t.Any]) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
