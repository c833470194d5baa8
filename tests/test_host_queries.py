"""The host app's own ORM: delete cascades to tombstones, and tombstones out of its queries."""

from __future__ import annotations

import typing as t

import pytest
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import ForeignKey
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from rpde_publisher import FeedMixin
from rpde_publisher import hide_tombstones
from rpde_publisher import RPDE
from rpde_publisher import show_tombstones


class IdSchema(Schema):
    id = fields.Integer()


@pytest.fixture
def shop(db_engine: Engine) -> t.Iterator[t.Any]:
    """A feed model (Event) with four kinds of children: non-feed rows it deletes with it
    (tiers), feed rows it deletes with it (occurrences), rows it does not (notes), and
    rows the database deletes (reviews, passive_deletes with ON DELETE CASCADE)."""

    class Base(DeclarativeBase):
        pass

    class Event(FeedMixin, Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(50))
        tiers: Mapped[list[Tier]] = relationship(
            cascade="all, delete-orphan", back_populates="event"
        )
        occurrences: Mapped[list[Occurrence]] = relationship(
            cascade="all, delete-orphan", back_populates="event"
        )
        notes: Mapped[list[Note]] = relationship(back_populates="event")
        reviews: Mapped[list[Review]] = relationship(cascade="all", passive_deletes=True)

    class Tier(Base):
        __tablename__ = "tier"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
        event: Mapped[Event] = relationship(back_populates="tiers")

    class Occurrence(FeedMixin, Base):
        __tablename__ = "occurrence"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
        event: Mapped[Event] = relationship(back_populates="occurrences")

    class Note(Base):
        __tablename__ = "note"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), nullable=True)
        event: Mapped[Event | None] = relationship(back_populates="notes")

    class Review(Base):
        __tablename__ = "review"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))

    rpde = RPDE()
    rpde.feed(Event, kind="SessionSeries", schema=IdSchema())
    rpde.feed(Occurrence, kind="ScheduledSession", schema=IdSchema())
    Base.metadata.drop_all(db_engine)
    Base.metadata.create_all(db_engine)
    with Session(db_engine) as session:
        for id_ in (1, 2):
            session.add(
                Event(
                    id=id_,
                    name=f"event {id_}",
                    tiers=[Tier(id=10 * id_), Tier(id=10 * id_ + 1)],
                    occurrences=[Occurrence(id=10 * id_)],
                    notes=[Note(id=10 * id_)],
                    reviews=[Review(id=10 * id_)],
                )
            )
        session.commit()
    yield Event, Tier, Occurrence, Note, Review
    Base.metadata.drop_all(db_engine)


def test_what_becomes_of_the_children_of_a_row_deleted_into_a_tombstone(
    db_engine: Engine, shop: t.Any
) -> None:
    Event, Tier, Occurrence, Note, Review = shop
    with Session(db_engine) as session:
        session.delete(session.get(Event, 1))
        session.commit()
        # The row stays, as a tombstone.
        assert session.scalar(select(Event.deleted).where(Event.id == 1)) is not None
        # Children the relationship deletes with it: feed rows become tombstones...
        occurrences = dict(session.execute(select(Occurrence.id, Occurrence.deleted)).all())
        assert occurrences[10] is not None and occurrences[20] is None
        # ...and other rows are deleted for good.
        assert sorted(session.scalars(select(Tier.id))) == [20, 21]
        # Children of other relationships keep their key: the row it names still exists.
        assert dict(session.execute(select(Note.id, Note.event_id)).all()) == {10: 1, 20: 2}
        # No DELETE reaches the database, so its ON DELETE CASCADE does not fire.
        assert sorted(session.scalars(select(Review.id))) == [10, 20]


def test_hide_tombstones_keeps_them_out_of_the_apps_own_queries(
    db_engine: Engine, shop: t.Any
) -> None:
    Event, Tier, Occurrence, Note, Review = shop
    Sessions = sessionmaker(db_engine)
    hide_tombstones(Sessions)
    with Sessions() as session:
        session.delete(session.get(Event, 1))
        session.commit()
    with Sessions() as session:
        assert [e.id for e in session.scalars(select(Event))] == [2]
        assert session.get(Event, 1) is None
        assert [o.id for o in session.scalars(select(Occurrence))] == [20]
        note = session.get(Note, 10)
        assert note is not None and note.event is None, "a lazy load does not reach it"
        # A join from another model's side is filtered too.
        names = session.scalars(select(Event.name).join(Event.notes).where(Note.id == 10)).all()
        assert names == []
        # One query may still see them.
        every = session.scalars(select(Event), execution_options=show_tombstones()).all()
        assert sorted(e.id for e in every) == [1, 2]
        tombstone = next(e for e in every if e.id == 1)
        session.expire(tombstone)
        assert tombstone.name == "event 1", "an object's own attributes still load"
    with Session(db_engine) as session:  # a session not opted in sees everything
        assert sorted(session.scalars(select(Event.id))) == [1, 2]
