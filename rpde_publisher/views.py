"""The feed endpoint: a blueprint with one route per feed name, answering RPDE requests."""

from __future__ import annotations

import functools
import logging
import time
import typing as t
from dataclasses import dataclass

from flask import Blueprint
from flask import request
from flask import Response
from flask import url_for

from .conditional import accepts_gzip
from .conditional import send_representation
from .cursor import cached_cursor
from .cursor import CURSOR_PARAMETERS
from .dataset.organisations import has_feeds
from .dataset.organisations import is_valid_key
from .errors import InvalidCursorError
from .outages import DATABASE_UNAVAILABLE
from .outages import is_outage
from .page import render_page
from .reading import read_rows
from .reading import setup_problem_of
from .responses import absolute_url
from .responses import json_error
from .responses import json_response
from .responses import not_set_up
from .responses import PublicResponse
from .responses import too_many_requests
from .responses import unavailable

if t.TYPE_CHECKING:
    from .cursor import Cursor
    from .extension import AppState
    from .extension import RPDE
    from .feed import Feed
    from .metrics import FeedMetrics

__all__ = ["FEED_ENDPOINTS", "make_blueprint"]

logger = logging.getLogger("rpde_publisher")

#: The endpoints serving feed pages, whose errors the blueprint's handlers answer.
FEED_ENDPOINTS = frozenset({"rpde.feed_page", "rpde.organisation_feed_page"})
#: Feed paths remembered per blueprint (feeds x script roots).
_MAX_FEED_PATHS = 256
#: Query strings up to this long have their cursors remembered as they are, at most
#: _MAX_QUERY_STRINGS of them per app (about a megabyte).
_SHORT_QUERY = 256
_MAX_QUERY_STRINGS = 4096


def make_blueprint(extension: RPDE, *, rate_limited: bool = False) -> Blueprint:
    """A new blueprint serving ``extension``'s feeds (one per app); ``rate_limited``:
    :data:`RPDE_RATE_LIMIT` applies to every route."""
    blueprint = Blueprint("rpde", __name__, template_folder="templates")
    # Each feed's path, by script root and name: url_for cost a fifth of a cached page.
    # Bounded, in case a proxy lets clients choose the script root.
    feed_paths: dict[tuple[str, str | None, str], str] = {}

    def cursor_of(feed: Feed) -> tuple[Cursor, str]:
        """The request's cursor and its canonical query (see :func:`cached_cursor`).

        A short query string is looked up as it is first: consumers poll the same pages
        over and over, and that spares parsing it. Bounded in count and length, that
        front holds about a megabyte whatever clients send; a longer one goes by RPDE's
        own parameters alone."""
        raw = request.query_string
        if len(raw) <= _SHORT_QUERY:
            return by_query_string(feed, raw)
        return cached_cursor(feed.ordering, feed.id_is_integer, _asked())

    @functools.lru_cache(maxsize=_MAX_QUERY_STRINGS)
    def by_query_string(feed: Feed, query_string: bytes) -> tuple[Cursor, str]:
        # Reads request.args, which comes from query_string alone; an invalid cursor
        # raises, and is not kept.
        return cached_cursor(feed.ordering, feed.id_is_integer, _asked())

    def rate_limit() -> Response | None:
        """:data:`RPDE_RATE_LIMIT` on every route of the blueprint: feeds, dataset sites,
        the catalogue, health."""
        state = extension.state()
        if state.limiter is None:
            return None
        wait = state.limiter.retry_after(request.remote_addr or "unknown")
        if wait is None:
            return None
        response = too_many_requests(wait, state.settings.rate_limit or 0)
        name = (request.view_args or {}).get("name")
        if isinstance(name, str) and name in extension.feeds:
            _Served().record(state.metrics, name, response.status_code)
        return response

    if rate_limited:  # no hook at all otherwise: it would cost every cached page
        blueprint.before_request(rate_limit)

    @blueprint.get("/feeds/")
    def feed_index() -> Response:
        settings = extension.state().settings
        feeds = [
            {
                "name": feed.name,
                "kind": feed.kind,
                "url": absolute_url(settings.base_url, url_for(".feed_page", name=feed.name)),
            }
            for feed in extension.feeds
        ]
        cache_control = f"public, max-age={settings.max_age}"
        return json_response(200, {"feeds": feeds}, cache_control=cache_control)

    @blueprint.get("/feeds/<path:name>")
    def feed_page(name: str) -> Response:
        return serve_feed(name, None)

    @blueprint.get("/organisations/<key>/feeds/<path:name>")
    def organisation_feed_page(key: str, name: str) -> Response:
        return serve_feed(name, key)

    def serve_feed(name: str, key: str | None) -> Response:
        """A page of feed ``name``, or of its rows belonging to organisation ``key``."""
        feed = extension.feeds.get(name)
        if feed is None:
            return json_error(
                404,
                {
                    "error": "unknown_feed",
                    "message": f"There is no feed named {name!r}.",
                    "feeds": sorted(f.name for f in extension.feeds),
                },
            )
        organisation = None  # the key as the feed's organisation rule compares it
        if key is not None:
            if feed.organisation is None:
                return _not_per_organisation(extension, name)
            organisation = _organisation_value(extension, feed, key)
            if organisation is None:
                return _unknown_organisation(key)
        state = extension.state()
        served = _Served()
        try:
            response = page(feed, key, organisation, state, served)
        except _UnknownOrganisation:
            return _unknown_organisation(t.cast(str, key))
        served.record(state.metrics, name, response.status_code)
        return response

    # Errors of the feed routes, answered as JSON and counted in the feed's metrics; the
    # handlers serve this blueprint only, never the host app's own routes.
    def feed_error(response: Response) -> Response:
        name = (request.view_args or {}).get("name")
        if isinstance(name, str) and name in extension.feeds:
            _Served().record(extension.state().metrics, name, response.status_code)
        return response

    @blueprint.errorhandler(InvalidCursorError)
    def invalid_cursor(exc: InvalidCursorError) -> Response:
        return feed_error(json_error(400, exc.as_dict()))

    def database_error(exc: Exception) -> Response:
        feed = extension.feeds.get((request.view_args or {}).get("name", ""))
        if feed is None or request.endpoint not in FEED_ENDPOINTS:
            raise exc  # another route's error: not ours to answer
        return feed_error(_outage(extension.state(), feed, exc))

    for error in DATABASE_UNAVAILABLE:
        blueprint.register_error_handler(error, database_error)

    def page(
        feed: Feed, key: str | None, organisation: t.Any, state: AppState, served: _Served
    ) -> Response:
        """The page the request asks for: from the cache, or read and rendered now."""
        settings = state.settings
        cursor, query = cursor_of(feed)
        path = feed_paths.get((request.script_root, key, feed.name))
        if path is None:
            if key is None:
                path = url_for(".feed_page", name=feed.name)
            else:
                path = url_for(".organisation_feed_page", key=key, name=feed.name)
            if len(feed_paths) < _MAX_FEED_PATHS:
                feed_paths[(request.script_root, key, feed.name)] = path
        feed_url = absolute_url(settings.base_url, path)
        cache_key = f"{feed_url}?{query}"
        sends_gzip = settings.gzip_level > 0 and accepts_gzip()
        cached = state.cache.get(cache_key, gzip=sends_gzip)
        if cached is None:
            # One request renders a missing page; others asking for it meanwhile, in any
            # worker sharing the cache, wait for that page instead of rendering it again.
            with state.cache.rendering(cache_key, gzip=sends_gzip) as cached:
                if cached is None:
                    # Asked only when rendering: a cached page proves the organisation existed.
                    if key is not None and not _has_feeds(extension, key):
                        raise _UnknownOrganisation
                    started = time.perf_counter()
                    rows = read_rows(state, feed, cursor, organisation)
                    rendered = render_page(
                        rows,
                        kind=feed.kind,
                        license=settings.license,
                        feed_url=feed_url,
                        cursor=cursor,
                        ordering=feed.ordering,
                    )
                    # Hashed and compressed once here; every cache hit reuses both.
                    cached = state.cache.keep(
                        cache_key,
                        rendered.body,
                        is_last=rendered.is_last,
                        timeout=(
                            settings.last_page_max_age if rendered.is_last else settings.max_age
                        ),
                        gzip_level=settings.gzip_level,
                        gzip=sends_gzip,
                    )
                    served.rendered(time.perf_counter() - started, last=rendered.is_last)
        max_age = settings.last_page_max_age if cached.is_last else settings.max_age
        return send_representation(
            cached.representation,
            content_type=settings.content_type,
            cache_control=f"public, max-age={max_age}",
            response_class=PublicResponse,
            headers={"Access-Control-Allow-Origin": "*"},
            vary=settings.gzip_level > 0,
        )

    from .dataset.views import register_dataset_routes
    from .monitoring import register_monitoring_routes

    register_dataset_routes(blueprint, extension)  # GET {prefix}/: the dataset site
    register_monitoring_routes(blueprint, extension)  # {prefix}/health and {prefix}/metrics
    return blueprint




class _UnknownOrganisation(Exception):
    """The organisation of a request has no feeds here (found while rendering)."""


@dataclass
class _Served:
    """How a feed request was answered, for its metrics, recorded once it is."""

    render_seconds: float | None = None
    last: bool = False

    def rendered(self, seconds: float, *, last: bool) -> None:
        self.render_seconds, self.last = seconds, last

    def record(self, metrics: FeedMetrics, name: str, status: int) -> None:
        """Every figure of the request: its render or cache hit, and its status."""
        if self.render_seconds is not None:
            metrics.render(name, self.render_seconds, last=self.last)
        elif status < 400:
            metrics.hit(name)
        metrics.request(name, status)


def _outage(state: AppState, feed: Feed, exc: Exception) -> Response:
    """The answer to a database error while reading ``feed``: ``503`` without
    ``Retry-After`` if the feed is not set up, with it if the database is out; any
    other error is a bug, and propagates."""
    problem = setup_problem_of(state, feed, exc)
    if problem is not None:
        return not_set_up(problem)
    if not is_outage(exc):
        raise exc
    logger.warning("Feed %r could not read the database: %s", feed.name, exc)
    return unavailable(state.settings.retry_after)


def _organisation_value(extension: RPDE, feed: Feed, key: str) -> t.Any | None:
    """``key`` as ``feed``'s organisation rule compares it; ``None`` if it cannot be a key."""
    if extension.organisation_sites is None or not is_valid_key(key):
        return None
    assert feed.organisation is not None
    return feed.organisation.key_value(key)


def _has_feeds(extension: RPDE, key: str) -> bool:
    provider = extension.organisation_sites
    return provider is not None and has_feeds(provider, key)


def _not_per_organisation(extension: RPDE, name: str) -> Response:
    return json_error(
        404,
        {
            "error": "unknown_feed",
            "message": f"Feed {name!r} is not published per organisation; every organisation's"
            " items are in the feed itself.",
            "feeds": sorted(f.name for f in extension.feeds if f.organisation is not None),
        },
    )


def _unknown_organisation(key: str) -> Response:
    return json_error(
        404,
        {
            "error": "unknown_organisation",
            "message": f"There is no organisation {key!r} with feeds here; the data catalogue"
            " lists the organisations' dataset sites.",
        },
    )


def _asked() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """RPDE's own parameters of the request, and their values."""
    args = request.args
    return tuple((name, tuple(args.getlist(name))) for name in CURSOR_PARAMETERS if name in args)
