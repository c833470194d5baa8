"""Uncached and cached page latency: first vs last, the floor, OFFSET views, bare bytes."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

from flask import Response
from sqlalchemy import create_engine
from sqlalchemy import text

from rpde_publisher.cursor import Cursor
from rpde_publisher.cursor import cursor_query
from rpde_publisher.cursor import START
from rpde_publisher.page import render_page
from rpde_publisher.query import fetch_rows

from . import references
from .apps import BASE_URL
from .apps import bench_app
from .apps import FEED_NAME
from .apps import FEED_PATH
from .timing import interleaved
from .timing import throughput
from .wsgi import WSGIGet


@dataclass
class Timed:
    """A candidate's median against its reference's, measured side by side."""

    candidate_ms: float
    reference_ms: float
    spread: float = 0.0

    @property
    def ratio(self) -> float:
        return self.candidate_ms / self.reference_ms


@dataclass
class PageFigures:
    dialect: str
    items: int
    last_vs_first_view: Timed | None = None
    last_vs_first_library: Timed | None = None
    floor_library: Timed | None = None
    floor_view: Timed | None = None
    #: Informative: the toolkit's library call against hand-written SQL over the stored data.
    stored_floor_library: Timed | None = None
    #: The same comparisons on a page of 500 tombstones (the opted-out organisation's
    #: slots): little data, so fixed costs weigh most there.
    tombstone_floor_library: Timed | None = None
    tombstone_floor_view: Timed | None = None
    tombstone_position: int | None = None
    #: OFFSET view (candidate) against the toolkit view (reference): a speed-up factor.
    deep_offset: Timed | None = None
    deep_position: int = 0
    cached_rps: float = 0.0
    bare_rps: float = 0.0
    curve: list[tuple[int, float, float]] = field(default_factory=list)


def _ms(seconds: float) -> float:
    return seconds * 1000


def cursor_at(connection: t.Any, position: int) -> Cursor:
    """The cursor after the item at ``position`` (1-based) in feed order; START for 0."""
    if position <= 0:
        return START
    modified, id_ = connection.execute(
        text(
            "SELECT modified, id FROM slot WHERE modified > 0"
            " ORDER BY modified, id LIMIT 1 OFFSET :n"
        ),
        {"n": position - 1},
    ).one()
    return Cursor(int(modified), int(id_))


def _tombstone_position(connection: t.Any) -> int | None:
    """Where a full page of the opted-out organisation's slots starts, if there is one.

    Seeded slots have ids in feed order, so the items before a slot are the ids below it.
    """
    first = connection.execute(
        text(
            "SELECT min(s.id) FROM slot AS s JOIN facility_use AS f ON f.id = s.facility_use_id"
            " JOIN organisation AS o ON o.id = f.organisation_id WHERE NOT o.publishes_open_data"
        )
    ).scalar()
    return None if first is None else int(first) - 1


def measure_pages(
    url: str, items: int, *, repeats: int, deep_repeats: int, curve_points: int
) -> PageFigures:
    """Every page row of the table, on the database at ``url`` holding ``items`` slots."""
    app = bench_app(url)
    cached_app = bench_app(url, CACHE_TYPE="SimpleCache")
    # The reference for cached pages: a bare view in the same app (so both pay for the
    # app's own hooks, such as Flask-SQLAlchemy's teardown), returning the page's bytes.
    page_bytes: dict[str, bytes] = {}
    cached_app.add_url_rule(
        "/bench/bytes",
        "bench_bytes",
        lambda: Response(page_bytes["body"], content_type="application/json"),
    )
    app.register_blueprint(references.offset_blueprint())
    # The floor has an engine of its own (it needs no Flask-SQLAlchemy), in the same app.
    floor_engine = create_engine(url)
    app.register_blueprint(references.floor_blueprint(floor_engine))
    from example_app.feeds import rpde
    from example_app.models import db

    feed = rpde.feeds.get(FEED_NAME)
    assert feed is not None
    settings = rpde.state(app).settings
    feed_url = BASE_URL + FEED_PATH
    figures = PageFigures(dialect="", items=items)
    with app.app_context():
        engine = db.engine
        figures.dialect = engine.dialect.name
        with engine.connect() as connection:
            last_position = max(items - references.PAGE_SIZE, 0)
            deep_position = min(
                900_000, (items * 9 // 10) // references.PAGE_SIZE * references.PAGE_SIZE
            )
            figures.deep_position = deep_position
            cursors = {0: START, last_position: cursor_at(connection, last_position)}
            cursors[deep_position] = cursor_at(connection, deep_position)
            step = max(
                items // curve_points // references.PAGE_SIZE * references.PAGE_SIZE,
                references.PAGE_SIZE,
            )
            depths = list(range(0, items - references.PAGE_SIZE + 1, step))[:curve_points]
            for depth in depths:
                cursors.setdefault(depth, cursor_at(connection, depth))
            tombstone_position = _tombstone_position(connection)
            if tombstone_position is not None:
                cursors.setdefault(tombstone_position, cursor_at(connection, tombstone_position))
            connection.rollback()
            dbapi = connection.connection.driver_connection
            dialect = engine.dialect.name

            def library(cursor: Cursor) -> t.Callable[[], bytes]:
                def call() -> bytes:
                    rows = fetch_rows(
                        connection,
                        feed,
                        cursor,
                        settings.page_size,
                        settle_seconds=settings.settle_seconds,
                    )
                    return render_page(
                        rows,
                        kind=feed.kind,
                        license=settings.license,
                        feed_url=feed_url,
                        cursor=cursor,
                        ordering=feed.ordering,
                    ).body

                return call

            def by_hand(cursor: Cursor, page: t.Callable[..., bytes]) -> t.Callable[[], bytes]:
                after = (
                    None
                    if cursor.is_start
                    else (int(cursor.modified or 0), int(t.cast(int, cursor.id)))
                )
                return lambda: page(dbapi, dialect, after, feed_url)

            def view(cursor: Cursor, target: t.Any = app, path: str = FEED_PATH) -> WSGIGet:
                query = cursor_query(cursor, feed.ordering)
                return WSGIGet(target, path + ("?" + query if query else ""))

            last = cursors[last_position]
            # The same bytes from every path, before anything is timed.
            for cursor in (START, last):
                expected = library(cursor)()
                assert by_hand(cursor, references.floor_page)() == expected, "floor differs"
                assert by_hand(cursor, references.stored_floor_page)() == expected, "stored differs"
                assert view(cursor)() == expected, "view differs"
                assert view(cursor, app, "/floor")() == expected, "floor view differs"

            samples = interleaved({"first": library(START), "last": library(last)}, repeats=repeats)
            figures.last_vs_first_library = _timed(samples, "last", "first")
            samples = interleaved({"first": view(START), "last": view(last)}, repeats=repeats)
            figures.last_vs_first_view = _timed(samples, "last", "first")

            samples = interleaved(
                {
                    "toolkit": library(last),
                    "floor": by_hand(last, references.floor_page),
                    "stored": by_hand(last, references.stored_floor_page),
                },
                repeats=repeats,
            )
            figures.floor_library = _timed(samples, "toolkit", "floor")
            figures.stored_floor_library = _timed(samples, "toolkit", "stored")
            samples = interleaved(
                {"toolkit": view(last), "floor": view(last, app, "/floor")}, repeats=repeats
            )
            figures.floor_view = _timed(samples, "toolkit", "floor")

            if tombstone_position is not None:
                figures.tombstone_position = tombstone_position
                gone = cursors[tombstone_position]
                body = view(gone)()
                assert body == by_hand(gone, references.floor_page)() == view(gone, app, "/floor")()
                page = json.loads(body)["items"]
                assert len(page) == references.PAGE_SIZE, "a full page of tombstones"
                assert all(item["state"] == "deleted" for item in page), "tombstones only"
                samples = interleaved(
                    {"toolkit": library(gone), "floor": by_hand(gone, references.floor_page)},
                    repeats=repeats,
                )
                figures.tombstone_floor_library = _timed(samples, "toolkit", "floor")
                samples = interleaved(
                    {"toolkit": view(gone), "floor": view(gone, app, "/floor")}, repeats=repeats
                )
                figures.tombstone_floor_view = _timed(samples, "toolkit", "floor")

            deep = cursors[deep_position]
            offset = WSGIGet(
                app, f"/offset/{FEED_NAME}?page={deep_position // references.PAGE_SIZE}"
            )
            _same_items(offset(), view(deep)())
            samples = interleaved({"offset": offset, "toolkit": view(deep)}, repeats=deep_repeats)
            figures.deep_offset = _timed(samples, "offset", "toolkit")

            for depth in depths:
                offset = WSGIGet(app, f"/offset/{FEED_NAME}?page={depth // references.PAGE_SIZE}")
                samples = interleaved(
                    {"toolkit": view(cursors[depth]), "offset": offset},
                    repeats=max(deep_repeats // 2, 3),
                    warmup=1,
                )
                figures.curve.append(
                    (depth, _ms(samples.median("toolkit")), _ms(samples.median("offset")))
                )

            middle = cursors[deep_position]
            cached = view(middle, cached_app)
            page_bytes["body"] = cached()  # fills the page cache, too
            bare = WSGIGet(cached_app, "/bench/bytes")
            assert cached() == bare()
            rates = throughput(
                {"cached": cached, "bare": bare}, calls=200, rounds=max(repeats // 3, 3)
            )
            figures.cached_rps, figures.bare_rps = rates["cached"], rates["bare"]
            connection.rollback()
        db.session.remove()
        engine.dispose()
    floor_engine.dispose()
    return figures


def _timed(samples: t.Any, candidate: str, reference: str) -> Timed:
    return Timed(
        _ms(samples.median(candidate)),
        _ms(samples.median(reference)),
        max(samples.spread(candidate), samples.spread(reference)),
    )


def _same_items(offset_body: bytes, toolkit_body: bytes) -> None:
    ours = json.loads(toolkit_body)["items"]
    theirs = json.loads(offset_body)["items"]
    assert ours == theirs, "the OFFSET view's items differ from the feed's"
