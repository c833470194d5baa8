"""Faults: 503 while the database cannot answer, survival when the cache dies, and recovery."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
import typing as t
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher.caching import CachedPage
from rpde_publisher.caching import frame

from . import servers
from .models import make_app
from .models import Models
from .walking import path_of
from .walking import settle
from .walking import walk

SERIES = "/openactive/feeds/session-series"


def assert_unavailable(response: t.Any) -> None:
    assert response.status_code == 503, response.data[:300]
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["error"] == "unavailable"


def seed(engine: Engine, models: Models, count: int) -> None:
    with Session(engine) as session:
        session.add_all([models.Series(name=f"s{i}") for i in range(count)])
        session.commit()


def database_copy(engine: Engine, models: Models) -> dict[int, dict[str, t.Any]]:
    import json

    with Session(engine) as session:
        rows = session.execute(
            select(models.Series.id, models.Series.rpde_data).where(models.Series.deleted.is_(None))
        )
        return {id_: json.loads(data) for id_, data in rows}


@pytest.mark.postgresql
def test_postgresql_stopped_and_restarted(models: Models, rpde: t.Any) -> None:
    try:
        server = servers.throwaway_postgresql_server()
    except servers.Unavailable as exc:
        pytest.skip(f"POSTGRESQL NOT TESTED: {exc}")
    assert server.throwaway is not None
    try:
        engine = create_engine(server.create_database(), connect_args={"connect_timeout": 2})
        models.Base.metadata.create_all(engine)
        seed(engine, models, 30)
        client = make_app(engine, rpde, RPDE_PAGE_SIZE=10).test_client()
        first = client.get(SERIES).get_json()
        copy = {item["id"]: item["data"] for item in first["items"]}

        server.throwaway.stop()
        down = client.get(path_of(first["next"]))
        assert_unavailable(down)
        assert client.get(SERIES).status_code == 503, "nothing stale served from our cache"

        server.throwaway.start()
        with Session(engine) as session:  # the app changed while consumers waited
            session.get(models.Series, 25).name = "edited after the outage"
            session.commit()
        result = walk(client, first["next"], copy=copy)  # no restart of the app needed
        assert result.copy == database_copy(engine, models)
        engine.dispose()
    finally:
        server.throwaway.remove()


def test_connections_terminated_by_postgresql(
    pg_engine: Engine, models: Models, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(pg_engine)
    models.Base.metadata.create_all(pg_engine)
    try:
        seed(pg_engine, models, 5)
        settle(pg_engine)
        client = make_app(pg_engine, rpde).test_client()
        assert client.get(SERIES).status_code == 200
        with pg_engine.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        # The pooled connection is dead; the view retries once on a fresh one.
        response = client.get(SERIES)
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == 5
    finally:
        models.Base.metadata.drop_all(pg_engine)


def test_a_slow_query_hits_the_statement_timeout(pg_url: str, models: Models, rpde: t.Any) -> None:
    engine = create_engine(pg_url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    try:
        seed(engine, models, 12)
        settle(engine)
        client = make_app(engine, rpde, RPDE_STATEMENT_TIMEOUT=0.5, RPDE_PAGE_SIZE=5).test_client()
        first = client.get(SERIES).get_json()
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE series IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            assert_unavailable(client.get(path_of(first["next"])))
            assert time.monotonic() - started < 5, "the page gave up after its timeout"
            blocker.rollback()
        copy = {item["id"]: item["data"] for item in first["items"]}
        assert walk(client, first["next"], copy=copy).copy == database_copy(engine, models)
        with engine.connect() as connection:  # the limit did not leak into the pool
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "mysql"])
def test_statement_timeout_on_sqlite_and_mariadb(
    request: pytest.FixtureRequest, models: Models, rpde: t.Any, database: str, tmp_path: t.Any
) -> None:
    """A page query that runs too long is cut off: SQLite by a progress handler, MariaDB by
    max_statement_time. The slow query is a huge computation."""
    if database == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    else:
        engine = servers.mysql_engine(request.getfixturevalue("mysql_url"))
        request.node.add_marker(pytest.mark.mysql)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    try:
        seed(engine, models, 2)
        from rpde_publisher.backends import backend_for

        with engine.connect() as connection:
            backend = backend_for(connection.dialect)
            slow = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                " WHERE i < 100000000) SELECT count(*) FROM n"
                if database == "sqlite"
                else "SELECT SUM(a.seq * b.seq % 7) FROM seq_1_to_100000 a, seq_1_to_100000 b"
            )
            started = time.monotonic()
            with pytest.raises(Exception) as excinfo:
                with backend.statement_timeout(connection, 0.3):
                    connection.execute(text(slow)).scalar()
            assert time.monotonic() - started < 10
            assert "interrupt" in str(excinfo.value).lower() or "max_statement_time" in str(
                excinfo.value
            )
            connection.rollback()
            assert connection.execute(text("SELECT 1")).scalar() == 1, "the limit was lifted"
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()


def test_an_exhausted_pool_gets_a_503(pg_url: str, models: Models, rpde: t.Any) -> None:
    engine = create_engine(pg_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    try:
        seed(engine, models, 12)
        settle(engine)
        client = make_app(engine, rpde, RPDE_PAGE_SIZE=5).test_client()
        first = client.get(SERIES).get_json()
        held = engine.connect()
        assert_unavailable(client.get(path_of(first["next"])))
        held.close()
        copy = {item["id"]: item["data"] for item in first["items"]}
        assert walk(client, first["next"], copy=copy).copy == database_copy(engine, models)
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()


class RedisServer:
    """A redis-server of our own, to stop and start."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("REDIS NOT TESTED: redis-server is not installed")
        self.binary = binary
        self.port = servers.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.mark.redis
def test_redis_stopped_and_restarted(
    sqlite_engine: Engine, models: Models, rpde: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    seed(sqlite_engine, models, 12)
    server = RedisServer()
    server.start()
    try:
        app = make_app(
            sqlite_engine,
            rpde,
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_URL=server.url,
            RPDE_CACHE_RETRY_SECONDS=5,
            RPDE_PAGE_SIZE=5,
        )
        client = app.test_client()
        first = client.get(SERIES)
        expected = first.data
        assert redis.Redis.from_url(server.url).keys("*rpde:page:*"), "the page was cached"
        server.stop()
        with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
            for _ in range(5):
                response = client.get(SERIES)
                assert response.status_code == 200 and response.data == expected
            # A harvest across the outage: every page comes from the database instead.
            copy = {item["id"]: item["data"] for item in first.get_json()["items"]}
            harvested = walk(client, first.get_json()["next"], copy=copy)
        assert harvested.copy == database_copy(sqlite_engine, models)
        failures = [r for r in caplog.records if "page cache failed" in r.getMessage()]
        assert len(failures) == 1, "logged once per interval, not once per request"
        server.start()
        time.sleep(5.2)
        assert client.get(SERIES).data == expected
        assert redis.Redis.from_url(server.url).keys("*rpde:page:*"), "caching resumed"
    finally:
        if server.process and server.process.poll() is None:
            server.stop()


def test_corrupt_and_truncated_cache_entries_are_ignored(
    sqlite_engine: Engine, models: Models, rpde: t.Any, tmp_path: Path
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    seed(sqlite_engine, models, 3)
    # A store outside the process, as Redis is, where an entry can be damaged.
    app = make_app(
        sqlite_engine, rpde, CACHE_TYPE="FileSystemCache", CACHE_DIR=str(tmp_path / "cache")
    )
    client = app.test_client()
    good = client.get(SERIES).data
    state = rpde.state(app)
    key = state.cache.key_prefix + "http://localhost" + SERIES + "?"
    whole = frame(CachedPage(good, False))
    flipped = whole[:-5] + bytes([whole[-5] ^ 0xFF]) + whole[-4:]
    for damaged in (whole[: len(whole) // 2], flipped, b"garbage", 42, ("tuple", True)):
        with app.app_context():
            state.cache.cache.set(key, damaged)
        assert client.get(SERIES).data == good, f"ignored {damaged!r:.40}"


def test_a_failure_inside_change_tracking_rolls_back_the_whole_write(
    tables: Engine, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(tables) as session:
        place = models.Place(name="Pool")
        session.add(models.Series(name="before", place=place))
        session.commit()
    before = database_copy(tables, models)
    with Session(tables) as session:
        stamps = dict(session.execute(select(models.Series.id, models.Series.modified)).all())

    from rpde_publisher.embedding import Embedding

    def broken(self: Embedding, criterion: t.Any) -> t.Any:
        raise RuntimeError("the child-bump query failed")

    monkeypatch.setattr(Embedding, "parent_ids", broken)
    with Session(tables) as session:
        session.get(models.Place, 1).name = "Renamed pool"
        session.add(models.Series(name="new", place_id=1))
        with pytest.raises(RuntimeError, match="child-bump"):
            session.commit()
    monkeypatch.undo()
    assert database_copy(tables, models) == before
    with Session(tables) as session:
        assert session.scalar(select(models.Place.name)) == "Pool"
        assert (
            dict(session.execute(select(models.Series.id, models.Series.modified)).all()) == stamps
        )


def test_concurrent_requests_during_an_outage_all_get_503(
    pg_url: str, models: Models, rpde: t.Any
) -> None:
    engine = create_engine(pg_url, pool_size=2, max_overflow=0, pool_timeout=0.2)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    try:
        app = make_app(engine, rpde)
        held = [engine.connect(), engine.connect()]
        statuses: list[int] = []

        def request() -> None:
            statuses.append(app.test_client().get(SERIES).status_code)

        threads = [threading.Thread(target=request) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [503] * 6
        for connection in held:
            connection.close()
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()
