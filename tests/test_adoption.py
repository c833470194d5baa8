"""Adopting the toolkit in an app written before it, step by step, and each way it went wrong."""

from __future__ import annotations

import json
import logging
import typing as t

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from . import host_app
from .host_app import FEED_PATH
from .host_app import HostApp
from .walking import settle
from .walking import walk


@pytest.fixture
def url(empty_database: str) -> str:
    """A database of its own for the host app, on SQLite and PostgreSQL."""
    return empty_database


@pytest.fixture
def engine(url: str) -> t.Iterator[Engine]:
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def build(url: str) -> t.Iterator[t.Callable[..., HostApp]]:
    """``host_app.build`` on the test's database; every app's engines disposed after."""
    built: list[HostApp] = []

    def make(**options: t.Any) -> HostApp:
        built.append(host_app.build(url, **options))
        return built[-1]

    yield make
    for host in built:
        host.close()


class Consumer:
    """Harvests the feed from its start, then from where it left off, keeping a copy."""

    def __init__(self) -> None:
        self.copy: dict[t.Any, dict[str, t.Any]] = {}
        self.url = f"http://localhost{FEED_PATH}"

    def poll(self, host: HostApp, engine: Engine) -> dict[t.Any, dict[str, t.Any]]:
        settle(engine)
        result = walk(host.app.test_client(), self.url, copy=self.copy)
        self.url = result.last_url
        for item in result.items:  # no item may sit below the start of a feed
            assert item["modified"] > 0, item
        return self.copy


def cli(host: HostApp, *args: str) -> t.Any:
    return host.app.test_cli_runner().invoke(args=["rpde", *args])


def host_works(host: HostApp, *, new_id: str) -> None:
    """The app's own writes and pages: create with a venue and genres, edit, read."""
    client = host.app.test_client()
    created = client.post(
        "/events",
        data={"id": new_id, "title": "New", "starts": "2027-02-01T18:00", "venue": "1",
              "genre": ["folk", "jazz"]},
    )
    assert created.status_code == 201, created.data
    assert client.post(f"/events/{new_id}", data={"title": "Renamed"}).data == b"saved"
    assert client.post(f"/events/{new_id}", data={"tier": "Child:4.00"}).data == b"saved"
    page = client.get(f"/events/{new_id}")
    assert page.status_code == 200 and page.data == b"Renamed at Riverside Hall: Child 4.00"
    assert f"{new_id} Renamed".encode() in client.get("/").data


def test_adopting_an_existing_app_step_by_step(
    build: t.Callable[..., HostApp], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # 0. The app as it was: its own data, pages and writes.
    legacy = build()
    host_app.seed(legacy)
    host_works(legacy, new_id="ev-100")

    # 1. The new code is deployed but the database not adopted yet. Start-up says what
    # to do; `install` refuses; the feed answers without a 500 or a "try again later";
    # the commands name the fix instead of printing a traceback; the old code still
    # writes (a trigger naming a missing column would break every UPDATE).
    with caplog.at_level(logging.ERROR, logger="rpde_publisher"):
        adopted = build(adopted=True)
    assert "flask rpde adopt events" in caplog.text
    installed = cli(adopted, "install")
    assert installed.exit_code != 0 and "flask rpde adopt" in installed.output
    response = adopted.app.test_client().get(FEED_PATH)
    assert response.status_code == 503 and "Retry-After" not in response.headers
    assert response.json["error"] == "not_set_up" and "retry_after" not in response.json
    for command in (["status"], ["backfill"], ["render"], ["purge"]):
        result = cli(adopted, *command)
        assert result.exit_code != 0, command
        assert "flask rpde adopt events" in result.output, (command, result.output)
        assert "Traceback" not in result.output and result.exception is None or isinstance(
            result.exception, SystemExit
        ), (command, result.output)
    checklist = cli(adopted, "checklist")
    assert "has no column modified, rpde_data" in checklist.output
    assert "`flask rpde adopt events`" in checklist.output and "503" not in checklist.output
    host_works(legacy, new_id="ev-101")

    # 2. Adopt: columns, index, triggers, then every existing row stamped and rendered.
    adopting = cli(adopted, "adopt")
    assert adopting.exit_code == 0, adopting.output
    assert "added column modified" in adopting.output
    assert "stamped 14 existing row(s)" in adopting.output  # 12 seeded + 2 made since
    again = cli(adopted, "adopt")  # safe to run again
    assert again.exit_code == 0 and "stamped 0 existing row(s)" in again.output
    status = cli(adopted, "status")
    assert status.exit_code == 0, status.output
    host_works(adopted, new_id="ev-102")
    consumer = Consumer()
    assert consumer.poll(adopted, engine) == adopted.published()
    assert "ev-012" not in consumer.copy  # cancelled before adoption: a tombstone

    # 3. The app goes on as before, and the consumer follows every kind of change.
    client = adopted.app.test_client()
    assert client.post("/events/ev-001", data={"title": "Folk night"}).status_code == 200
    assert client.post("/events/ev-002/cancel").status_code == 200  # its own soft delete
    assert client.post("/events/ev-003/delete").status_code == 200  # session.delete()
    assert client.post("/venues/2", data={"name": "Park Pavilion"}).status_code == 200
    assert client.post("/events/ev-004", data={"genre": "family"}).status_code == 200
    assert client.post("/events/ev-006", data={"public": "no"}).status_code == 200
    copy = consumer.poll(adopted, engine)
    assert copy == adopted.published()
    assert "ev-002" not in copy and "ev-003" not in copy
    assert copy["ev-005"]["location"] == {"name": "Park Pavilion"}
    assert copy["ev-004"]["genres"] == ["Family", "Jazz"]
    # The app's own pages: tombstones are out of them, even where it forgot deleted_at.
    assert client.get("/events/ev-003").status_code == 404
    assert b"ev-003" not in client.get("/venues/1").data + client.get("/venues/2").data
    host_works(adopted, new_id="ev-103")

    # 4. A filter added later: found stale everywhere until `render` moves the items.
    filtered = build(adopted=True, public_only=True)
    status = cli(filtered, "status")
    assert status.exit_code == 1 and "publish_when changed" in status.output
    validation = cli(filtered, "validate", "events", "--no-progress", "--no-rewalk")
    assert validation.exit_code == 1 and "database-setup" in validation.output
    stamps_of_the_app = "SELECT id, updated_at FROM event ORDER BY id"
    with engine.connect() as connection:
        updated_before = connection.execute(text(stamps_of_the_app)).all()
    rendered = cli(filtered, "render", "events")
    assert rendered.exit_code == 0, rendered.output
    with engine.connect() as connection:  # the toolkit's own writes leave updated_at alone
        assert connection.execute(text(stamps_of_the_app)).all() == updated_before
    copy = consumer.poll(filtered, engine)
    assert copy == filtered.published()
    assert "ev-006" not in copy, "the consumer learnt that the filter removed it"
    assert cli(filtered, "status").exit_code == 0

    # 5. A schema change: only the items whose data changes move.
    priced = build(adopted=True, public_only=True, schema_version=2)
    assert "schema changed" in cli(priced, "status").output
    moved = cli(priced, "render", "events")
    with_tiers = [id_ for id_, item in priced.published().items() if "lowestPrice" in item]
    assert f"moved {len(with_tiers)} item(s) whose data changed" in moved.output, moved.output
    assert consumer.poll(priced, engine) == priced.published()
    assert cli(priced, "status").exit_code == 0
    validation = cli(priced, "validate", "events", "--no-progress", "--no-rewalk")
    assert validation.exit_code == 0, validation.output
    host_works(priced, new_id="ev-104")
    assert consumer.poll(priced, engine) == priced.published()


def test_a_missing_trigger_is_reported_and_no_unstamped_row_leads_the_feed(
    build: t.Callable[..., HostApp], engine: Engine
) -> None:
    host = build(adopted=True)
    host_app.seed(host)
    assert cli(host, "backfill").exit_code == 0
    consumer = Consumer()
    consumer.poll(host, engine)
    name = "rpde_event_update" if engine.dialect.name == "sqlite" else "rpde_stamp"
    with engine.begin() as connection:
        on = "" if engine.dialect.name == "sqlite" else " ON event"
        connection.execute(text(f"DROP TRIGGER {name}{on}"))
    client = host.app.test_client()
    assert client.post("/events/ev-001", data={"title": "Edited"}).status_code == 200
    settle(engine)
    first = client.get(FEED_PATH).json
    assert all(item["modified"] > 0 for item in first["items"])
    assert "ev-001" not in [item["id"] for item in first["items"][:1]]
    status = cli(host, "status")
    assert status.exit_code == 1, status.output
    assert "triggers that stamp 'event' are missing" in status.output
    assert "have no stamp" in status.output and "flask rpde backfill events" in status.output
    checklist = cli(host, "checklist")
    assert "triggers that stamp 'event' are missing" in checklist.output
    validation = cli(host, "validate", "events", "--no-progress", "--no-rewalk")
    assert validation.exit_code == 1 and "database-setup" in validation.output
    # The fix the messages name puts it right, and the consumer sees the edit.
    assert cli(host, "install").exit_code == 0
    assert cli(host, "backfill").exit_code == 0
    assert consumer.poll(host, engine)["ev-001"]["name"] == "Edited"
    assert cli(host, "status").exit_code == 0


def test_a_column_added_later_makes_sqlite_triggers_stale(
    build: t.Callable[..., HostApp], engine: Engine
) -> None:
    host = build(adopted=True)
    host_app.seed(host)
    assert cli(host, "adopt").exit_code == 0
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE event ADD COLUMN subtitle VARCHAR(100)"))
    # The app's next version maps the column too; its triggers were made without it.
    grown = build(adopted=True, subtitle=True)
    status = cli(grown, "status")
    if engine.dialect.name == "postgresql":  # its triggers compare whole rows: still right
        assert status.exit_code == 0, status.output
        return
    assert status.exit_code == 1 and "differ from what this version" in status.output
    assert cli(grown, "install").exit_code == 0
    assert cli(grown, "status").exit_code == 0


def test_status_counts_what_the_feed_publishes(build: t.Callable[..., HostApp]) -> None:
    host = build(adopted=True, public_only=True)
    host_app.seed(host)
    assert cli(host, "adopt").exit_code == 0
    assert host.app.test_client().post("/events/ev-001", data={"public": "no"}).status_code == 200
    result = cli(host, "status", "--json")
    assert result.exit_code == 0, result.output
    [status] = json.loads(result.output)
    assert status["live_items"] == len(host.published()) == 10
    assert status["filtered_out"] == 1 and status["tombstones"] == 1


def test_only_a_missing_table_or_column_counts_as_not_set_up(db_engine: Engine) -> None:
    """Each backend tells a schema error from any other, so that an outage (a lock, a
    time-out) is not looked into, and a missing column is not "try again later"."""
    from sqlalchemy.exc import DBAPIError

    from rpde_publisher.backends import is_schema_error

    def error_of(sql: str) -> DBAPIError:
        with db_engine.connect() as connection, pytest.raises(DBAPIError) as raised:
            connection.execute(text(sql))
        return raised.value

    assert is_schema_error(error_of("SELECT no_such_column FROM (SELECT 1 AS a) AS t"))
    assert is_schema_error(error_of("SELECT * FROM no_such_table_here"))
    assert not is_schema_error(error_of("SELECT 1 FROM (SELECT 1) AS t WHERE"))  # syntax
