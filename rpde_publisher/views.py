"""The feed endpoint: a blueprint with one route per feed name, answering RPDE requests."""

from __future__ import annotations

import logging
import typing as t

from flask import Blueprint
from flask import request
from flask import Response
from flask import url_for
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from .caching import CachedPage
from .cursor import as_multi
from .cursor import cursor_query
from .cursor import parse_cursor
from .errors import InvalidCursorError
from .page import render_page

if t.TYPE_CHECKING:
    from .extension import RPDE

logger = logging.getLogger("rpde_publisher")

#: Seconds a consumer is asked to wait when the database cannot answer.
RETRY_AFTER_SECONDS = 60
#: Feed paths remembered per blueprint (feeds x script roots).
_MAX_FEED_PATHS = 256


class FeedResponse(Response):
    """A response that never carries cookies, so CDNs can cache feed pages."""

    def set_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Feed responses set no cookies (a session cookie would defeat caching)."""

    def delete_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Feed responses set no cookies."""


def make_blueprint(extension: RPDE) -> Blueprint:
    """A new blueprint serving ``extension``'s feeds (one per app)."""
    blueprint = Blueprint("rpde", __name__, template_folder="templates")
    # Each feed's path, by script root and name: url_for cost a fifth of a cached page.
    # Bounded, in case a proxy lets clients choose the script root.
    feed_paths: dict[tuple[str, str], str] = {}

    @blueprint.get("/feeds/<name>")
    def feed_page(name: str) -> Response:
        feed = extension.feeds.get(name)
        if feed is None:
            return _json_error(
                404,
                {
                    "error": "unknown_feed",
                    "message": f"There is no feed named {name!r}.",
                    "feeds": sorted(f.name for f in extension.feeds),
                },
            )
        state = extension.state()
        settings = state.settings
        try:
            cursor = parse_cursor(
                as_multi(request.args), ordering=feed.ordering, integer_ids=feed.id_is_integer
            )
        except InvalidCursorError as exc:
            return _json_error(400, exc.as_dict())
        path = feed_paths.get((request.script_root, name))
        if path is None:
            path = url_for(".feed_page", name=name)
            if len(feed_paths) < _MAX_FEED_PATHS:
                feed_paths[(request.script_root, name)] = path
        feed_url = _absolute(settings.base_url, path)
        query = cursor_query(cursor, feed.ordering)
        cache_key = f"{feed_url}?{query}"
        cached = state.cache.get(cache_key)
        if cached is None:
            from .query import fetch_rows

            try:
                with state.sessions.connection(feed.spec.table) as connection:
                    rows = fetch_rows(
                        connection,
                        feed,
                        cursor,
                        settings.page_size,
                        settle_seconds=settings.settle_seconds,
                    )
            except (OperationalError, InterfaceError, PoolTimeoutError, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not (
                    isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
                ):
                    raise
                logger.warning("Feed %r could not read the database: %s", name, exc)
                return _unavailable()
            page = render_page(
                rows,
                kind=feed.kind,
                license=settings.license,
                feed_url=feed_url,
                cursor=cursor,
                ordering=feed.ordering,
            )
            cached = CachedPage(page.body, page.is_last)
            max_age = settings.last_page_max_age if page.is_last else settings.max_age
            state.cache.set(cache_key, cached, timeout=max_age)
        max_age = settings.last_page_max_age if cached.is_last else settings.max_age
        response = FeedResponse(cached.body, status=200, content_type=settings.content_type)
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return blueprint


def _absolute(base_url: str | None, path: str) -> str:
    """``path`` made absolute with ``RPDE_BASE_URL``, else the request's own host."""
    origin = base_url if base_url is not None else request.host_url.rstrip("/")
    return origin + path


def _json_error(status: int, body: dict[str, t.Any]) -> Response:
    import json

    response = FeedResponse(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _unavailable() -> Response:
    response = _json_error(
        503,
        {
            "error": "unavailable",
            "message": "The feed cannot reach its database right now; try again later.",
            "retry_after": RETRY_AFTER_SECONDS,
        },
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
