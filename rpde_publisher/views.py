"""The feed endpoint: a blueprint with one route per feed name, answering RPDE requests."""

from __future__ import annotations

import functools
import logging
import time
import typing as t

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
    from .extension import RPDE
    from .feed import Feed

__all__ = ["make_blueprint"]

logger = logging.getLogger("rpde_publisher")

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
        name = (request.view_args or {}).get("name")
        if isinstance(name, str) and name in extension.feeds:
            state.metrics.request(name, 429)
        return too_many_requests(wait, state.settings.rate_limit or 0)

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
        settings = state.settings
        try:
            cursor, query = cursor_of(feed)
        except InvalidCursorError as exc:
            state.metrics.request(name, 400)
            return json_error(400, exc.as_dict())
        path = feed_paths.get((request.script_root, key, name))
        if path is None:
            if key is None:
                path = url_for(".feed_page", name=name)
            else:
                path = url_for(".organisation_feed_page", key=key, name=name)
            if len(feed_paths) < _MAX_FEED_PATHS:
                feed_paths[(request.script_root, key, name)] = path
        feed_url = absolute_url(settings.base_url, path)
        cache_key = f"{feed_url}?{query}"
        sends_gzip = settings.gzip_level > 0 and accepts_gzip()
        cached = state.cache.get(cache_key, gzip=sends_gzip)
        rendered = False
        if cached is None:
            # One request renders a missing page; others asking for it meanwhile, in any
            # worker sharing the cache, wait for that page instead of rendering it again.
            with state.cache.rendering(cache_key, gzip=sends_gzip) as cached:
                if cached is None:
                    try:
                        # Asked only when rendering: a cached page proves the organisation existed.
                        if key is not None and not _has_feeds(extension, key):
                            return _unknown_organisation(key)
                        started = time.perf_counter()
                        rows = read_rows(state, feed, cursor, organisation)
                    except DATABASE_UNAVAILABLE as exc:
                        problem = setup_problem_of(state, feed, exc)
                        if problem is not None:
                            state.metrics.request(name, 503)
                            return not_set_up(problem)
                        if not is_outage(exc):
                            raise
                        logger.warning("Feed %r could not read the database: %s", name, exc)
                        state.metrics.request(name, 503)
                        return unavailable(settings.retry_after)
                    page = render_page(
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
                        page.body,
                        is_last=page.is_last,
                        timeout=settings.last_page_max_age if page.is_last else settings.max_age,
                        gzip_level=settings.gzip_level,
                        gzip=sends_gzip,
                    )
                    state.metrics.render(name, time.perf_counter() - started, last=page.is_last)
                    rendered = True
        if not rendered:
            state.metrics.hit(name)
        max_age = settings.last_page_max_age if cached.is_last else settings.max_age
        response = send_representation(
            cached.representation,
            content_type=settings.content_type,
            cache_control=f"public, max-age={max_age}",
            response_class=PublicResponse,
            headers={"Access-Control-Allow-Origin": "*"},
            vary=settings.gzip_level > 0,
        )
        state.metrics.request(name, response.status_code)
        return response

    from .dataset.views import register_dataset_routes
    from .monitoring import register_monitoring_routes

    register_dataset_routes(blueprint, extension)  # GET {prefix}/: the dataset site
    register_monitoring_routes(blueprint, extension)  # {prefix}/health and {prefix}/metrics
    return blueprint




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
