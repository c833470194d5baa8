"""``parent=``: a child whose parent leaves its feed (deleted, retired, filtered out) leaves too.

OpenActive's consumers match each session to its series and each slot to its facility
use by ``@id``; a child left live after its parent went is an orphan, and the Test Suite
fails registration on one. Each test harvests as a consumer does, carrying on from its
saved ``next`` URL, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.columns import UTCDateTime
from rpde_publisher.errors import ConfigurationError
from rpde_publisher.lifecycle import retire

from .models import make_app
from .walking import settle
from .walking import walk

SERIES = "http://localhost/openactive/feeds/session-series"
SESSIONS = "http://localhost/openactive/feeds/scheduled-sessions"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE = datetime(2040, 1, 1, tzinfo=UTC)


@dataclass
class Club:
    Base: type[DeclarativeBase]
    Organisation: t.Any
    Series: t.Any
    Session: t.Any


def make_club() -> Club:
    class Base(DeclarativeBase):
        pass

    class Organisation(Base):
        __tablename__ = "organisation"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        publishes_open_data: Mapped[bool] = mapped_column(Boolean, default=True)

    class Series(FeedMixin, Base):
        __tablename__ = "series"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        ends: Mapped[datetime] = mapped_column(UTCDateTime(), default=FUTURE)
        organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
        organisation: Mapped[Organisation] = relationship()

    class Session_(FeedMixin, Base):
        __tablename__ = "session"
        id: Mapped[int] = mapped_column(primary_key=True)
        series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
        starts: Mapped[datetime] = mapped_column(UTCDateTime())
        series: Mapped[Series] = relationship()

    Base.registry.configure()
    return Club(Base, Organisation, Series, Session_)


class SeriesSchema(Schema):
    name = fields.String()


class SessionSchema(Schema):
    super_event = fields.Integer(attribute="series_id", data_key="superEvent")


def club_feeds(club: Club) -> RPDE:
    """Series filtered by their organisation's opt-out and by name; sessions that only
    say parent="series" (no filter and no embeds of their own)."""
    rpde = RPDE()
    publishing = select(club.Organisation.id).where(club.Organisation.publishes_open_data)
    rpde.feed(
        club.Series,
        kind="SessionSeries",
        schema=SeriesSchema,
        embeds=["organisation"],
        expires=club.Series.ends,
        publish_when=lambda: (
            club.Series.organisation_id.in_(publishing) & club.Series.name.notlike("draft%")
        ),
    )
    rpde.feed(club.Session, kind="ScheduledSession", schema=SessionSchema, parent="series")
    return rpde


@pytest.fixture
def club() -> Club:
    return make_club()


@pytest.fixture
def club_app(db_engine: Engine, club: Club) -> t.Iterator[t.Any]:
    rpde = club_feeds(club)
    club.Base.metadata.drop_all(db_engine)
    club.Base.metadata.create_all(db_engine)
    app = make_app(db_engine, rpde)
    app.extensions["club_rpde"] = rpde
    yield app
    club.Base.metadata.drop_all(db_engine)


class Consumer:
    """Harvests both feeds, carrying on from where it stopped, as a real consumer does."""

    def __init__(self, engine: Engine, client: t.Any) -> None:
        self.engine, self.client = engine, client
        self.next = {SERIES: SERIES, SESSIONS: SESSIONS}
        self.copies: dict[str, dict[t.Any, t.Any]] = {SERIES: {}, SESSIONS: {}}

    def harvest(self, *, wait: bool = True) -> dict[str, list[dict[str, t.Any]]]:
        """The items each feed sent since the last harvest (``wait``: once everything
        committed so far is visible)."""
        if wait:
            settle(self.engine)
        seen = {}
        for url in (SERIES, SESSIONS):
            result = walk(self.client, self.next[url], copy=self.copies[url])
            self.next[url] = result.last_url
            seen[url] = result.items
        return seen

    def orphans(self) -> set[t.Any]:
        """Live sessions whose superEvent is no live series in the copy."""
        return {
            id_
            for id_, data in self.copies[SESSIONS].items()
            if data["superEvent"] not in self.copies[SERIES]
        }

    def fresh_copies(self) -> dict[str, dict[t.Any, t.Any]]:
        settle(self.engine)
        return {url: walk(self.client, url).copy for url in (SERIES, SESSIONS)}


def _states(items: list[dict[str, t.Any]]) -> dict[t.Any, str]:
    return {item["id"]: item["state"] for item in items}


def _timetable(session: Session, club: Club) -> tuple[t.Any, t.Any, t.Any]:
    organisation = club.Organisation(name="Riverside")
    swim, yoga = (club.Series(name=name, organisation=organisation) for name in ("Swim", "Yoga"))
    for series in (swim, yoga):
        for day in range(3):
            session.add(club.Session(series=series, starts=FUTURE + timedelta(days=day)))
    session.add_all([swim, yoga])
    session.commit()
    return organisation, swim, yoga


def _session_ids(session: Session, club: Club, series: t.Any) -> set[int]:
    return set(session.scalars(select(club.Session.id).where(club.Session.series_id == series.id)))


def test_a_deleted_parent_takes_its_children_and_a_revived_one_brings_them_back(
    db_engine: Engine, club: Club, club_app: t.Any
) -> None:
    consumer = Consumer(db_engine, club_app.test_client())
    with Session(db_engine) as session:
        _, swim, yoga = _timetable(session, club)
        swim_id, swim_sessions = swim.id, _session_ids(session, club, swim)
        consumer.harvest()
        assert len(consumer.copies[SESSIONS]) == 6 and consumer.orphans() == set()

        session.delete(swim)
        session.commit()
        seen = consumer.harvest()
        assert _states(seen[SERIES]) == {swim_id: "deleted"}
        # Only the swim sessions move, as tombstones: the yoga ones are not sent again.
        assert _states(seen[SESSIONS]) == dict.fromkeys(swim_sessions, "deleted")
        assert consumer.orphans() == set()

        session.add(club.Series(id=swim_id, name="Swim", organisation_id=yoga.organisation_id))
        session.commit()
        seen = consumer.harvest()
        assert _states(seen[SESSIONS]) == dict.fromkeys(swim_sessions, "updated")
        assert len(consumer.copies[SESSIONS]) == 6 and consumer.orphans() == set()
    assert consumer.fresh_copies() == consumer.copies


def test_a_retired_parent_takes_its_children(
    db_engine: Engine, club: Club, club_app: t.Any
) -> None:
    consumer = Consumer(db_engine, club_app.test_client())
    series_feed = club_app.extensions["club_rpde"].feeds.get("session-series")
    with Session(db_engine) as session:
        _, swim, _ = _timetable(session, club)
        swim_id, swim_sessions = swim.id, _session_ids(session, club, swim)
        consumer.harvest()
        swim.ends = LONG_AGO  # the series ended; `flask rpde retire` tombstones it
        session.commit()
        consumer.harvest()

    assert retire(db_engine.begin, series_feed) == 1
    seen = consumer.harvest()
    assert _states(seen[SERIES]) == {swim_id: "deleted"}
    assert _states(seen[SESSIONS]) == dict.fromkeys(swim_sessions, "deleted")
    assert consumer.orphans() == set()
    assert consumer.fresh_copies() == consumer.copies


def test_a_parent_filtered_out_takes_its_children(
    db_engine: Engine, club: Club, club_app: t.Any
) -> None:
    """Through the parent's opt-out (a row the parent embeds) and through its own row."""
    consumer = Consumer(db_engine, club_app.test_client())
    with Session(db_engine) as session:
        organisation, swim, yoga = _timetable(session, club)
        swim_sessions = _session_ids(session, club, swim)
        every_session = swim_sessions | _session_ids(session, club, yoga)
        consumer.harvest()

        organisation.publishes_open_data = False  # the opt-out: no session row changes
        session.commit()
        seen = consumer.harvest()
        assert _states(seen[SESSIONS]) == dict.fromkeys(every_session, "deleted")
        assert consumer.copies == {SERIES: {}, SESSIONS: {}}

        organisation.publishes_open_data = True
        session.commit()
        seen = consumer.harvest()
        assert _states(seen[SESSIONS]) == dict.fromkeys(every_session, "updated")

        swim.name = "draft swim"  # the parent's own row leaves its filter
        session.commit()
        seen = consumer.harvest()
        assert _states(seen[SESSIONS]) == dict.fromkeys(swim_sessions, "deleted")
        assert consumer.orphans() == set()
    assert consumer.fresh_copies() == consumer.copies


def test_a_child_added_to_a_deleted_parent_is_published_deleted(
    db_engine: Engine, club: Club, club_app: t.Any
) -> None:
    consumer = Consumer(db_engine, club_app.test_client())
    with Session(db_engine) as session:
        _, swim, _ = _timetable(session, club)
        session.delete(swim)
        session.commit()
        late = club.Session(series_id=swim.id, starts=FUTURE)
        session.add(late)
        session.commit()
        consumer.harvest()
        assert late.id not in consumer.copies[SESSIONS]
        assert consumer.orphans() == set()


@pytest.mark.parametrize("db_engine", ["postgresql", "mysql"], indirect=True)
def test_no_child_is_skipped_while_its_parents_delete_is_in_flight(
    db_engine: Engine, club: Club, club_app: t.Any
) -> None:
    """The children move in the parent's transaction, stamped as every write is: a
    consumer that harvests while it is open, past a later commit, still gets them."""
    consumer = Consumer(db_engine, club_app.test_client())
    with Session(db_engine) as setup:
        _, swim, yoga = _timetable(setup, club)
        swim_id, yoga_id = swim.id, yoga.id
        swim_sessions = _session_ids(setup, club, swim)
    consumer.harvest()

    deleting = Session(db_engine)
    deleting.delete(deleting.get(club.Series, swim_id))
    deleting.flush()  # the tombstone is written, and the transaction stays open
    with Session(db_engine) as other:  # a later writer commits first
        other.get(club.Series, yoga_id).name = "Yoga (new)"
        other.commit()
    # MariaDB shows a change after the settle lag; keep the delete open past it.
    threading.Event().wait(0.2)
    consumer.harvest(wait=False)  # PostgreSQL: nothing after the open delete shows yet
    assert set(consumer.copies[SESSIONS]) >= swim_sessions

    deleting.commit()
    deleting.close()
    seen = consumer.harvest()
    assert _states(seen[SESSIONS]).items() >= dict.fromkeys(swim_sessions, "deleted").items()
    assert consumer.orphans() == set()
    assert consumer.fresh_copies() == consumer.copies


def test_parent_must_be_a_many_to_one_relationship_to_another_feed(club: Club) -> None:
    rpde = RPDE()
    with pytest.raises(ConfigurationError, match="which no feed of this RPDE publishes"):
        rpde.feed(club.Session, kind="ScheduledSession", schema=SessionSchema, parent="series")
    rpde.feed(club.Series, kind="SessionSeries", schema=SeriesSchema)
    with pytest.raises(ConfigurationError, match="parent=.sereis. names no relationship"):
        RPDE().feed(club.Session, kind="ScheduledSession", schema=SessionSchema, parent="sereis")
    with pytest.raises(ConfigurationError, match="must name one many-to-one relationship"):
        rpde.feed(
            club.Session,
            kind="ScheduledSession",
            schema=SessionSchema,
            parent="series.organisation",
        )
