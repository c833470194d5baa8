"""Feeds served from a PostgreSQL streaming replica: the watermark holds on a hot standby.

The tests start their own primary and a hot standby streaming from it (pg_basebackup).
Writers write to the primary; the app reads every feed page from the standby
(``RPDE_READ_DATABASE_URI``). A row committed on the primary stays hidden on the standby
while an older write transaction is still open there, and a consumer harvesting from the
standby under concurrent writers ends with a copy equal to the primary, row for row.
"""

from __future__ import annotations

import typing as t

import pytest
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rpde_publisher import RPDE

from . import servers
from .conftest import _unavailable
from .models import make_app
from .models import Models
from .soak import compare
from .soak import Consumer
from .soak import soak_seconds
from .soak import SoakReport
from .soak import Writers
from .test_concurrency import database_copy
from .test_concurrency import http_reader

pytestmark = pytest.mark.postgresql

SERIES = "/openactive/feeds/session-series"


class Replication(t.NamedTuple):
    primary_url: str
    replica_url: str
    primary_server: servers.ThrowawayPostgreSQL
    replica_server: servers.ThrowawayPostgreSQL

    def wait_for_replay(self) -> None:
        servers.wait_for_replay(self.primary_server.url, self.replica_server.url)


@pytest.fixture(scope="module")
def replication() -> t.Iterator[Replication]:
    """A throwaway primary and a hot standby of it, with one database for the tests."""
    try:
        primary = servers.ThrowawayPostgreSQL.create()
    except servers.Unavailable as exc:
        _unavailable("postgresql", str(exc))
    replica = None
    try:
        replica = primary.start_replica()
        database = servers.DatabaseServer(primary.url).create_database("rpde_replica")
        name = make_url(database).database
        replica_url = make_url(replica.url).set(database=name).render_as_string(False)
        replication = Replication(database, replica_url, primary, replica)
        replication.wait_for_replay()
        yield replication
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


@pytest.fixture
def primary(replication: Replication, models: Models) -> t.Iterator[Engine]:
    engine = create_engine(replication.primary_url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    replication.wait_for_replay()
    yield engine
    models.Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def replica_app(replication: Replication, primary: Engine, rpde: RPDE) -> t.Iterator[t.Any]:
    """The test app writing to the primary and reading feed pages from the standby."""
    app = make_app(primary, rpde, RPDE_READ_DATABASE_URI=replication.replica_url)
    yield app
    read_factory = rpde.state(app).read_sessions.factory
    read_factory.kw["bind"].dispose()  # type: ignore[attr-defined]


def page_queries(engine: Engine) -> list[str]:
    """Feed page queries (they carry the watermark) run on ``engine``."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if "pg_snapshot_xmin" in statement:
            seen.append(statement)

    return seen


def test_the_read_database_is_a_standby(replication: Replication) -> None:
    engine = create_engine(replication.replica_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
        with pytest.raises(Exception, match="read-only transaction"):
            connection.execute(text("CREATE TABLE nope (id int)"))
    engine.dispose()


def test_a_row_committed_behind_an_open_transaction_stays_hidden_on_the_standby(
    replication: Replication, primary: Engine, models: Models, replica_app: t.Any
) -> None:
    client = replica_app.test_client()
    primary_pages = page_queries(primary)

    slow = Session(primary)
    slow.add(models.Series(name="slow writer"))  # older transaction id, still open
    slow.flush()
    with Session(primary) as fast:
        fast.add(models.Series(name="fast writer"))
        fast.commit()
    replication.wait_for_replay()

    first = client.get(SERIES).get_json()
    assert first["items"] == [], "the newer row waits for the older transaction"
    # Without the watermark the standby would already show it, and a consumer's cursor
    # would pass the slow writer's stamp before its row became visible.
    raw = create_engine(replication.replica_url)
    with raw.connect() as connection:
        names = connection.execute(text("SELECT name FROM series")).scalars().all()
    raw.dispose()
    assert names == ["fast writer"]

    slow.commit()
    slow.close()
    replication.wait_for_replay()
    after = client.get(SERIES).get_json()
    assert [item["data"]["name"] for item in after["items"]] == ["slow writer", "fast writer"]
    assert after["items"][0]["modified"] < after["items"][1]["modified"]
    assert primary_pages == [], "no feed page was read from the primary"


@pytest.mark.slow
def test_harvesting_from_the_standby_under_writers_loses_nothing(
    replication: Replication, primary: Engine, models: Models, replica_app: t.Any
) -> None:
    primary_pages = page_queries(primary)
    consumer = Consumer(http_reader(replica_app.test_client(), SERIES))
    writers = Writers(primary, models.Series)
    seconds = soak_seconds(20)
    consumer.start()
    writers.run_for(seconds)
    consumer.stop()
    replication.wait_for_replay()
    consumer.catch_up()
    report = SoakReport(seconds, writers.operations, consumer.pages, consumer.items)
    compare(consumer.copy, database_copy(primary, models), report)
    report.write("postgresql-replica")
    print(report.summary())
    assert report.operations["commit"] > 50 and report.operations["rollback"] > 0
    assert report.operations["delete"] > 0 and report.live_rows > 50
    assert consumer.pages > 100, "the consumer harvested while the writers wrote"
    assert primary_pages == [], "every page came from the standby"
    assert report.lost == 0, report.summary()
