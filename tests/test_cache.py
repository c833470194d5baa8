"""The server-side page cache: pages are built once (also when many ask at once), errors
never cached, lifetimes honoured."""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask_caching import Cache
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from .models import make_app


@pytest.fixture
def sqlite_tables(sqlite_engine: t.Any, models: t.Any) -> t.Any:
    models.Base.metadata.create_all(sqlite_engine)
    return sqlite_engine


def _count_queries(engine: t.Any) -> list[str]:
    from sqlalchemy import event

    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "series" in statement:
            statements.append(statement)

    return statements


@pytest.mark.parametrize(
    "backend", ["SimpleCache", pytest.param("RedisCache", marks=pytest.mark.redis)]
)
def test_a_page_is_read_from_the_database_once(
    request: pytest.FixtureRequest, sqlite_tables: t.Any, rpde: t.Any, models: t.Any, backend: str
) -> None:
    config: dict[str, t.Any] = {"CACHE_TYPE": backend}
    if backend == "RedisCache":
        config["CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
        config["CACHE_KEY_PREFIX"] = f"test-{id(request)}:"
    app = make_app(sqlite_tables, rpde, **config)
    with Session(sqlite_tables) as session:
        session.add_all([models.Series(name=f"s{i}") for i in range(3)])
        session.commit()
    queries = _count_queries(sqlite_tables)
    client = app.test_client()
    first = client.get("/openactive/feeds/session-series")
    second = client.get("/openactive/feeds/session-series")
    assert first.data == second.data and len(first.get_json()["items"]) == 3
    assert second.headers["Cache-Control"] == "public, max-age=3600"
    assert len(queries) == 1, "the second request is served from the cache"
    # Another cursor is another page.
    client.get(first.get_json()["next"].replace("http://localhost", ""))
    assert len(queries) == 2


def test_errors_are_never_cached(sqlite_tables: t.Any, rpde: t.Any) -> None:
    app = make_app(sqlite_tables, rpde, CACHE_TYPE="SimpleCache")
    rpde_state = rpde.state(app)
    client = app.test_client()
    assert (
        client.get("/openactive/feeds/session-series?afterTimestamp=x&afterId=1").status_code == 400
    )
    assert client.get("/openactive/feeds/nope").status_code == 404
    with app.app_context():
        backend = rpde_state.cache.cache.cache
        assert not backend._cache, "nothing was stored"


def test_cache_lifetimes_follow_the_headers(
    sqlite_tables: t.Any, rpde: t.Any, models: t.Any
) -> None:
    timeouts: list[int] = []
    app = make_app(sqlite_tables, rpde, CACHE_TYPE="SimpleCache")
    state = rpde.state(app)
    original = state.cache.set

    def recording_set(url: str, page: t.Any, timeout: int) -> None:
        timeouts.append(timeout)
        original(url, page, timeout)

    state.cache.set = recording_set  # type: ignore[method-assign]
    with Session(sqlite_tables) as session:
        session.add(models.Series(name="one"))
        session.commit()
    client = app.test_client()
    body = client.get("/openactive/feeds/session-series").get_json()
    client.get(body["next"].replace("http://localhost", ""))
    assert timeouts == [3600, 8]


def test_an_app_supplied_cache_is_used(sqlite_tables: t.Any, models: t.Any) -> None:
    from flask import Flask
    from sqlalchemy.orm import sessionmaker

    from rpde_publisher import RPDE

    from .models import register_feeds

    app = Flask(__name__)
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    rpde = RPDE(app, session=sessionmaker(sqlite_tables), cache=cache)
    register_feeds(rpde, models)
    app.test_client().get("/openactive/feeds/session-series")
    with app.app_context():
        keys = list(cache.cache._cache)
    assert keys == ["rpde:page:http://localhost/openactive/feeds/session-series?"]


# Many consumers asking for the same missing page at once.

SERIES = "/openactive/feeds/session-series"


def _slow_reads(monkeypatch: pytest.MonkeyPatch, seconds: float, fail: int = 0) -> list[float]:
    """Make every page read take ``seconds`` (the first ``fail`` of them then fail, as a
    database that went away does); returns when each read began."""
    import rpde_publisher.reading as reading

    real = reading.fetch_rows
    reads: list[float] = []

    def slow(*args: t.Any, **kwargs: t.Any) -> t.Any:
        reads.append(time.monotonic())
        time.sleep(seconds)
        if len(reads) <= fail:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(reading, "fetch_rows", slow)
    return reads


def _at_once(app: Flask, path: str, count: int) -> list[TestResponse]:
    start = threading.Barrier(count)

    def fetch(_: int) -> TestResponse:
        client = app.test_client()
        start.wait()
        return client.get(path)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(fetch, range(count)))


def _cache_config(request: pytest.FixtureRequest, backend: str) -> dict[str, t.Any]:
    config: dict[str, t.Any] = {"CACHE_TYPE": backend}
    if backend == "RedisCache":
        config["CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
        config["CACHE_KEY_PREFIX"] = f"test-{id(request)}-{time.monotonic_ns()}:"
    return config


@pytest.mark.parametrize(
    "backend", ["SimpleCache", pytest.param("RedisCache", marks=pytest.mark.redis)]
)
def test_consumers_asking_for_a_missing_page_at_once_cost_one_render(
    request: pytest.FixtureRequest,
    sqlite_tables: t.Any,
    rpde: t.Any,
    models: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    app = make_app(sqlite_tables, rpde, **_cache_config(request, backend))
    with Session(sqlite_tables) as session:
        session.add_all([models.Series(name=f"s{i}") for i in range(3)])
        session.commit()
    reads = _slow_reads(monkeypatch, 0.4)
    answers = _at_once(app, SERIES, 6)
    assert [answer.status_code for answer in answers] == [200] * 6
    assert len({answer.data for answer in answers}) == 1
    assert len(answers[0].get_json()["items"]) == 3
    assert len(reads) == 1, "one request rendered; the others waited for its page"
    state = rpde.state(app)
    with app.app_context():
        assert not state.cache.cache.has(
            state.cache.claim_prefix + "http://localhost" + SERIES + "?"
        )


def test_without_a_page_cache_nobody_waits(
    sqlite_tables: t.Any, rpde: t.Any, models: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(sqlite_tables, rpde, CACHE_TYPE="NullCache")
    reads = _slow_reads(monkeypatch, 0.2)
    answers = _at_once(app, SERIES, 4)
    assert [answer.status_code for answer in answers] == [200] * 4
    assert len(reads) == 4, "nothing could hold the page, so each request read it"


def test_a_render_that_fails_gives_up_its_claim_at_once(
    sqlite_tables: t.Any, rpde: t.Any, models: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(sqlite_tables, rpde, CACHE_TYPE="SimpleCache")
    with Session(sqlite_tables) as session:
        session.add(models.Series(name="one"))
        session.commit()
    reads = _slow_reads(monkeypatch, 0.3, fail=1)
    began = time.monotonic()
    answers = _at_once(app, SERIES, 3)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 503], "the failed render answered 503, the others took over"
    # The waiters took over when the claim was given up, not after waiting it out.
    assert len(reads) >= 2 and reads[1] - reads[0] < 1.0
    assert time.monotonic() - began < 3.0
    assert app.test_client().get(SERIES).status_code == 200
