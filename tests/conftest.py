"""Fixtures: databases (SQLite, PostgreSQL, MariaDB), Redis, test models and apps."""

from __future__ import annotations

import json
import os
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE

from . import servers
from .browser import browser  # noqa: F401  (fixture)
from .models import make_app
from .models import make_models
from .models import Models
from .models import register_feeds
from .offline import use_offline_lists

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SERVICES = ("postgresql", "mysql", "redis")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
_passed: Counter[str] = Counter()
# The item checks read OpenActive's lists from files, as a publisher's own tests may.
use_offline_lists()


def _unavailable(service: str, reason: str) -> t.NoReturn:
    message = f"{service.upper()} NOT TESTED: {reason}"
    if CI:
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> t.Iterator[servers.DatabaseServer]:
    try:
        server = servers.postgresql_server()
    except servers.Unavailable as exc:
        _unavailable("postgresql", str(exc))
    yield server
    if server.throwaway is not None:
        server.throwaway.remove()


@pytest.fixture(scope="session")
def pg_url(pg_server: servers.DatabaseServer) -> t.Iterator[str]:
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(scope="session")
def mysql_url() -> t.Iterator[str]:
    try:
        server = servers.mysql_server()
    except servers.Unavailable as exc:
        _unavailable("mysql", str(exc))
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        return servers.redis_url()
    except servers.Unavailable as exc:
        _unavailable("redis", str(exc))


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: t.Any, record: t.Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[Engine]:
    """An engine on each supported database (parametrised)."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path / "feeds.sqlite3")
    elif request.param == "postgresql":
        engine = create_engine(request.getfixturevalue("pg_url"))
    else:
        engine = servers.mysql_engine(request.getfixturevalue("mysql_url"))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[str]:
    """The URL of an empty database of each kind, owned by this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database("rpde_own")
    yield url
    server.drop_database(url)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> t.Iterator[Engine]:
    engine = _sqlite_engine(tmp_path / "feeds.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> t.Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["postgresql", "mysql"])
def race_engine(request: pytest.FixtureRequest, models: Models, rpde: RPDE) -> t.Iterator[Engine]:
    """The test models' tables on the databases with row locks, under READ COMMITTED (what
    MySQL/MariaDB need for embedded feeds), for tests that hold one transaction while
    another runs."""
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "mysql_url")
    engine = create_engine(url, isolation_level="READ COMMITTED")
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    yield engine
    models.Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def models() -> Models:
    return make_models()


@pytest.fixture
def rpde(models: Models) -> RPDE:
    extension = RPDE()
    register_feeds(extension, models)
    return extension


@pytest.fixture
def tables(db_engine: Engine, models: Models, rpde: RPDE) -> t.Iterator[Engine]:
    """The test models' tables (with triggers) on ``db_engine``; dropped afterwards."""
    models.Base.metadata.drop_all(db_engine)
    models.Base.metadata.create_all(db_engine)
    yield db_engine
    models.Base.metadata.drop_all(db_engine)


@pytest.fixture
def app(tables: Engine, rpde: RPDE) -> t.Any:
    return make_app(tables, rpde)


@pytest.fixture
def client(app: t.Any) -> t.Any:
    return app.test_client()


@pytest.fixture
def session(tables: Engine) -> t.Iterator[Session]:
    with Session(tables) as s:
        yield s


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the services it needs, so CI can check that they all ran."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        # db_engine and the like take these names as params
        databases = {value for value in params.values() if isinstance(value, str)}
        if "postgresql" in databases or names & {"pg_url", "pg_engine", "pg_server"}:
            item.add_marker(pytest.mark.postgresql)
        if "mysql" in databases or "mysql_url" in names:
            item.add_marker(pytest.mark.mysql)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> t.Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    services = [name for name in SERVICES if item.get_closest_marker(name)]
    if report.when == "call" and report.passed:
        _passed.update(services)
    # An expected failure ran against its servers: only a real skip means one was missing.
    if report.skipped and services and CI and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{', '.join(services)} test skipped under CI=true: {report.longrepr}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    OUTPUT.mkdir(exist_ok=True)
    counts = {name: _passed[name] for name in SERVICES}
    (OUTPUT / "service-tests.json").write_text(json.dumps(counts, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    counts = ", ".join(f"{name}: {_passed[name]}" for name in SERVICES)
    terminalreporter.write_line(f"tests passed against real services: {counts}")
