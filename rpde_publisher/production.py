"""What ``init_app`` builds for production: the read replica's sessions, metrics, rate limit."""

from __future__ import annotations

import os
import typing as t
import weakref
from collections.abc import Callable

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .caching import PageCache
from .errors import ConfigurationError
from .metrics import FeedMetrics
from .ratelimit import RateLimiter
from .sessions import SessionSource
from .settings import Settings

__all__ = ["feed_metrics", "rate_limiter", "read_sessions", "redis_behind"]


def read_sessions(
    settings: Settings,
    read_session: Callable[[], Session] | None,
    primary: SessionSource,
) -> SessionSource:
    """Where feed pages are read: ``read_session``, an engine on the read URI, or the primary."""
    if read_session is not None and settings.read_database_uri is not None:
        raise ConfigurationError(
            "Give the feeds' read database either as read_session= or as"
            " RPDE_READ_DATABASE_URI, not both."
        )
    if read_session is not None:
        return SessionSource(read_session)
    if settings.read_database_uri is None:
        return primary
    engine = create_engine(settings.read_database_uri, **settings.read_engine_options)
    _dispose_after_fork(engine)
    return SessionSource(sessionmaker(engine))


def _dispose_after_fork(engine: Engine) -> None:
    """A forked worker (gunicorn with ``preload_app``) must not share pooled connections."""
    reference = weakref.ref(engine)

    def _forget_parent_connections() -> None:
        child_engine = reference()
        if child_engine is not None:
            child_engine.dispose(close=False)

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_parent_connections)


def redis_behind(app: Flask, cache: PageCache) -> tuple[t.Any, str] | None:
    """The Redis client and key prefix of the page cache, when its backend is Redis."""
    backend = app.extensions.get("cache", {}).get(cache.cache)
    client = getattr(backend, "_write_client", None)
    if client is None or not callable(getattr(client, "pipeline", None)):
        return None
    prefix = getattr(backend, "key_prefix", "")
    return client, prefix if isinstance(prefix, str) else ""


def feed_metrics(app: Flask, settings: Settings, cache: PageCache) -> FeedMetrics:
    """Feed metrics, shared between workers through the cache's Redis if it has one."""
    metrics = FeedMetrics(flush_seconds=settings.metrics_flush_seconds)
    redis = redis_behind(app, cache)
    if redis is not None and settings.metrics_token is not None:
        client, prefix = redis
        metrics.share(client, f"{prefix}rpde:metrics")
    return metrics


def rate_limiter(app: Flask, settings: Settings, cache: PageCache) -> RateLimiter | None:
    """The :data:`RPDE_RATE_LIMIT` limiter, counting in the cache's Redis if it has one."""
    if settings.rate_limit is None:
        return None
    redis = redis_behind(app, cache)
    if redis is None:
        return RateLimiter(settings.rate_limit)
    client, prefix = redis
    return RateLimiter(
        settings.rate_limit,
        client,
        key_prefix=f"{prefix}rpde:rate:",
        retry_seconds=settings.cache_retry_seconds,
    )
