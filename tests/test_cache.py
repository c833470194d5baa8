"""The server-side page cache: pages are built once, errors never cached, lifetimes honoured."""

from __future__ import annotations

import typing as t

import pytest
from flask_caching import Cache
from sqlalchemy.orm import Session

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
