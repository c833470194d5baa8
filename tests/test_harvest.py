"""The harvester: a copy equal to the database, resuming, polling, and surviving faults."""

from __future__ import annotations

import time
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from rpde_publisher.harvest import FeedNotFound
from rpde_publisher.harvest import FeedUnavailable
from rpde_publisher.harvest import Harvester
from rpde_publisher.harvest import InvalidPage
from rpde_publisher.harvest import LocalCopy
from rpde_publisher.harvest import NotJSON
from rpde_publisher.harvest import parse_retry_after
from rpde_publisher.harvest import RetryPolicy
from rpde_publisher.harvest import UnexpectedStatus
from rpde_publisher.harvest import wsgi_client

from . import faults
from .harvesting import database_copy
from .live import serve
from .models import make_app
from .walking import settle

#: Tiny waits, so the fault tests run in well under a second each.
QUICK = RetryPolicy(unavailable_wait=(0.01, 0.02), error_wait=0.01, attempts=4)


class Sleeps:
    """Records the waits a harvester asks for, and waits them (they are tiny here)."""

    def __init__(self, real: bool = True) -> None:
        self.waits: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


# The example app ----------------------------------------------------------------------


@pytest.fixture
def example_app(tmp_path: Path) -> t.Any:
    from example_app import create_app

    # The page cache stays on; a short last-page lifetime lets the test wait it out.
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/example.sqlite3",
            "RPDE_LAST_PAGE_MAX_AGE": 1,
        }
    )


def test_harvest_of_the_example_app_equals_the_database_and_resumes(example_app: t.Any) -> None:
    from example_app.feeds import rpde
    from example_app.models import db
    from example_app.models import Organisation
    from example_app.models import SessionSeries

    client = wsgi_client(example_app)
    copies: dict[str, LocalCopy] = {}
    resume: dict[str, str] = {}
    with example_app.app_context():
        for feed in rpde.feeds:
            copies[feed.name] = LocalCopy()
            harvester = Harvester(f"http://localhost/openactive/feeds/{feed.name}", client=client)
            resume[feed.name] = harvester.harvest(copies[feed.name])
            expected = database_copy(db.session, feed)
            assert expected, f"the example app seeds {feed.name}"
            assert copies[feed.name].data == expected, feed.name
            assert harvester.stats.retries == 0

        # Publisher activity: an organisation opts out, a series is renamed, one deleted.
        opting_out = db.session.scalars(
            db.select(Organisation).where(Organisation.publishes_open_data.is_(True))
        ).first()
        opting_out.publishes_open_data = False
        series = db.session.scalars(db.select(SessionSeries).order_by(SessionSeries.id)).all()
        renamed = next(s for s in series if s.organisation_id != opting_out.id)
        renamed.name = "Renamed while harvested"
        db.session.delete(series[-1])
        db.session.commit()
        time.sleep(1.1)  # consumers see changes once the cached last page expires

        for feed in rpde.feeds:
            harvester = Harvester(resume[feed.name], client=client)  # resume, not resync
            harvester.harvest(copies[feed.name])
            assert copies[feed.name].data == database_copy(db.session, feed), feed.name
        assert copies["session-series"].data[renamed.id]["name"] == "Renamed while harvested"
        assert series[-1].id not in copies["session-series"]


# The test models, on every database ---------------------------------------------------


def _populate(session: Session, models: t.Any) -> None:
    place = models.Place(name="Main pool")
    series = [models.Series(name=f"Swim {i}", place=place) for i in range(17)]
    session.add_all(series)
    session.add_all(models.Facility(id=f"court-{i}", name=f"Court {i}") for i in range(9))
    session.add_all(models.Change(name=f"change {i}") for i in range(11))
    session.commit()
    for row in series[:3]:
        session.delete(row)
    series[5].offers.append(models.Offer(price=4))
    session.commit()


def test_harvest_equals_the_database_on_each_database(
    tables: t.Any, rpde: t.Any, models: t.Any
) -> None:
    app = make_app(tables, rpde, RPDE_PAGE_SIZE=4)
    with Session(tables) as session:
        _populate(session, models)
        settle(tables)
        client = wsgi_client(app)
        for feed in rpde.feeds:
            copy = LocalCopy()
            harvester = Harvester(f"http://localhost/openactive/feeds/{feed.name}", client=client)
            saved = harvester.harvest(copy)
            assert copy.data == database_copy(session, feed), feed.name
            # Changes after the harvest arrive by resuming from the saved next URL.
            row_id = session.scalars(
                feed.model.__table__.select().where(feed.spec.deleted_column.is_(None))
            ).first()
            session.delete(session.get(feed.model, row_id))
            session.commit()
            settle(tables)
            Harvester(saved, client=client).harvest(copy)
            assert copy.data == database_copy(session, feed), feed.name
            assert row_id not in copy


# Faults over real HTTP ----------------------------------------------------------------


@pytest.fixture
def feed_app(sqlite_engine: t.Any, models: t.Any, rpde: t.Any) -> t.Any:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=5)
    with Session(sqlite_engine) as session:
        _populate(session, models)
    app.extensions["test_engine"] = sqlite_engine
    return app


def _expected(app: t.Any, rpde: t.Any) -> dict[t.Any, t.Any]:
    with Session(app.extensions["test_engine"]) as session:
        return database_copy(session, rpde.feeds.get("session-series"))


def _harvest_through(
    app: t.Any, injector: faults.FaultInjector, **options: t.Any
) -> tuple[Harvester, LocalCopy]:
    app.wsgi_app = injector
    copy = LocalCopy()
    with serve(app) as base:
        harvester = Harvester(f"{base}/openactive/feeds/session-series", **options)
        with harvester:
            harvester.harvest(copy)
    return harvester, copy


def test_recovers_from_503_after_rpdes_random_interval(feed_app: t.Any, rpde: t.Any) -> None:
    sleeps = Sleeps()
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.status(503), faults.with_cursor)
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK, sleep=sleeps)
    assert copy.data == _expected(feed_app, rpde)
    assert [faulted for _, faulted in injector.log].count(True) == 1
    assert len(sleeps.waits) == 1 and 0.01 <= sleeps.waits[0] <= 0.02
    assert harvester.stats.retries == 1


def test_recovers_from_429_waiting_its_retry_after(feed_app: t.Any, rpde: t.Any) -> None:
    sleeps = Sleeps()
    injector = faults.FaultInjector(
        feed_app.wsgi_app, faults.status(429, retry_after="1"), faults.with_cursor, times=2
    )
    started = time.monotonic()
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK, sleep=sleeps)
    assert copy.data == _expected(feed_app, rpde)
    assert sleeps.waits == [1.0, 1.0], "Retry-After is honoured, not the policy's interval"
    assert time.monotonic() - started >= 2.0


def test_recovers_from_a_dropped_connection(feed_app: t.Any, rpde: t.Any) -> None:
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.drop_connection, faults.with_cursor)
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK)
    assert copy.data == _expected(feed_app, rpde)
    assert harvester.stats.retries == 1


def test_recovers_from_a_connection_dropped_mid_body(feed_app: t.Any, rpde: t.Any) -> None:
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.truncate_body, faults.with_cursor)
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK)
    assert copy.data == _expected(feed_app, rpde)
    assert harvester.stats.retries == 1


def test_recovers_from_a_slow_page_by_timing_out_and_retrying(feed_app: t.Any, rpde: t.Any) -> None:
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.slow(1.5), faults.with_cursor)
    started = time.monotonic()
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK, timeout=0.4)
    assert copy.data == _expected(feed_app, rpde)
    assert harvester.stats.retries == 1
    assert time.monotonic() - started < 1.5, "the harvester gave up on the slow answer"


def test_a_slow_page_within_the_timeout_is_simply_waited_for(feed_app: t.Any, rpde: t.Any) -> None:
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.slow(0.3), faults.with_cursor)
    harvester, copy = _harvest_through(feed_app, injector, retry=QUICK, timeout=5)
    assert copy.data == _expected(feed_app, rpde)
    assert harvester.stats.retries == 0


def test_gives_up_when_the_feed_stays_down(feed_app: t.Any) -> None:
    injector = faults.FaultInjector(
        feed_app.wsgi_app, faults.status(500), faults.with_cursor, times=100
    )
    with pytest.raises(FeedUnavailable) as caught:
        _harvest_through(feed_app, injector, retry=QUICK)
    assert caught.value.attempts == 4 and caught.value.status == 500
    assert "afterTimestamp" in caught.value.url


@pytest.mark.parametrize("code", [404, 410])
def test_404_and_410_stop_at_once_with_a_clear_error(feed_app: t.Any, code: int) -> None:
    injector = faults.FaultInjector(feed_app.wsgi_app, faults.status(code), lambda e: True)
    with pytest.raises(FeedNotFound) as caught:
        _harvest_through(feed_app, injector, retry=QUICK)
    assert caught.value.status == code
    assert "do not retry" in str(caught.value)
    assert len(injector.log) == 1, "never retried"


def test_refused_connection_is_retried_then_reported() -> None:
    from .servers import free_port

    sleeps = Sleeps(real=False)
    harvester = Harvester(
        f"http://127.0.0.1:{free_port()}/feed", retry=QUICK, sleep=sleeps, timeout=2
    )
    with harvester, pytest.raises(FeedUnavailable, match="connection failed"):
        list(harvester.pages())
    assert len(sleeps.waits) == 3


# Errors that waiting cannot fix, in-process -------------------------------------------


def _client(body: bytes, status: int = 200, content_type: str = "application/json") -> httpx.Client:
    def app(environ: t.Any, start_response: t.Any) -> list[bytes]:
        start_response(f"{status} X", [("Content-Type", content_type)])
        return [body]

    return wsgi_client(app)


def test_non_json_is_a_clear_error() -> None:
    client = _client(b"<html>Down for maintenance</html>", content_type="text/html")
    with pytest.raises(NotJSON, match="not JSON.*<html>Down"):
        list(Harvester("http://localhost/feed", client=client).pages())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "not an object"),
        (b'{"items": []}', "no 'next'"),
        (b'{"next": "http://localhost/feed?x=1", "items": {}}', "no 'items' array"),
        (
            b'{"next": "http://localhost/feed", "items": [{"state": "deleted", "kind": "K",'
            b' "id": 1, "modified": 3}]}',
            "itself",
        ),
        (b'{"next": "http://localhost/f2", "items": [{"state": "new", "id": 1}]}', "state 'new'"),
        (
            b'{"next": "http://localhost/f2", "items": [{"state": "updated", "kind": "K",'
            b' "id": 1, "modified": 3}]}',
            "no 'data' object",
        ),
    ],
)
def test_a_page_that_is_not_rpde_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(InvalidPage, match=message):
        list(Harvester("http://localhost/feed", client=_client(body)).pages())


def test_400_is_not_retried() -> None:
    harvester = Harvester("http://localhost/feed", client=_client(b'{"error": "bad"}', 400))
    with pytest.raises(UnexpectedStatus, match="400"):
        harvester.fetch("http://localhost/feed")
    assert harvester.stats.requests == 1


# Polling, resuming, and the back-off arithmetic ---------------------------------------


def test_polls_the_last_page_and_follows_new_items(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=5)
    with Session(sqlite_engine) as session:
        session.add_all(models.Series(name=f"Swim {i}") for i in range(7))
        session.commit()
        polls: list[float] = []

        def publish_while_waiting(seconds: float) -> None:
            polls.append(seconds)
            if len(polls) == 2:  # between the second and third poll, a new series appears
                session.add(models.Series(name="New term"))
                session.commit()

        harvester = Harvester(
            "http://localhost/openactive/feeds/session-series",
            client=wsgi_client(app),
            sleep=publish_while_waiting,
            poll_interval=8.0,
        )
        seen = []
        for item in harvester.items(poll=True):
            seen.append(item.data["name"] if item.data else None)
            if item.data and item.data["name"] == "New term":
                break
    assert seen == [f"Swim {i}" for i in range(7)] + ["New term"]
    assert polls == [8.0, 8.0], "waits 8 s between polls of the last page"


def test_resume_from_a_saved_next_url_continues_where_it_stopped(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=3)
    with Session(sqlite_engine) as session:
        session.add_all(models.Series(name=f"Swim {i}") for i in range(10))
        session.commit()
    client = wsgi_client(app)
    copy = LocalCopy()
    first = Harvester("http://localhost/openactive/feeds/session-series", client=client)
    saved = None
    for number, page in enumerate(first.pages(), start=1):
        copy.apply(page.items)
        saved = page.next
        if number == 2:
            break  # the consumer stops (a deploy, a crash) after storing page 2
    assert len(copy) == 6
    assert first.next_url.endswith("afterId=3"), "next_url moves only when asked for more"
    second = Harvester(saved, client=client)
    second.harvest(copy)
    assert sorted(item.data["name"] for item in copy) == sorted(f"Swim {i}" for i in range(10))
    assert second.stats.pages == 3, "pages 3 and 4, then the last page; nothing re-read"


def test_rpdes_random_interval_is_the_default_back_off() -> None:
    import random

    policy = RetryPolicy()
    waits = [policy.unavailable_delay(None, random.Random(seed)) for seed in range(50)]
    assert all(3600 <= wait <= 7200 for wait in waits)
    assert len(set(waits)) == 50, "random, so consumers do not come back together"
    assert policy.unavailable_delay("120", random.Random()) == 120
    assert policy.unavailable_delay("999999", random.Random()) == 7200, "capped at max_wait"


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90
    )
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="unavailable_wait"):
        RetryPolicy(unavailable_wait=(10, 5))
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


def test_raw_sql_deletes_reach_the_copy_as_tombstones(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    """A harvester sees a row deleted by raw SQL leave (the triggers make a tombstone)."""
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    with Session(sqlite_engine) as session:
        session.add_all(models.Series(name=f"Swim {i}") for i in range(3))
        session.commit()
        copy = LocalCopy()
        harvester = Harvester(
            "http://localhost/openactive/feeds/session-series", client=wsgi_client(app)
        )
        saved = harvester.harvest(copy)
        session.execute(text("DELETE FROM series WHERE id = 2"))
        session.commit()
        Harvester(saved, client=wsgi_client(app)).harvest(copy)
        assert sorted(copy.data) == [1, 3]
        assert copy.data == database_copy(session, rpde.feeds.get("session-series"))
