"""An adopter's models: events at venues, of a type, in genres, with backrefs everywhere."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE


@dataclass
class EventModels:
    Base: type[DeclarativeBase]
    Venue: t.Any
    Amenity: t.Any
    EventType: t.Any
    Genre: t.Any
    Event: t.Any
    Ticket: t.Any
    EventSchema: type[Schema]


def make_event_models() -> EventModels:
    """New mapped classes on a new metadata, as an existing Flask-SQLAlchemy app has them:
    every relationship has its backref; genres and amenities are many-to-many, tickets
    one-to-many."""

    class Base(DeclarativeBase):
        pass

    event_genre = Table(
        "event_genre",
        Base.metadata,
        Column("event_id", ForeignKey("event.id"), primary_key=True),
        Column("genre_id", ForeignKey("genre.id"), primary_key=True),
    )
    venue_amenity = Table(
        "venue_amenity",
        Base.metadata,
        Column("venue_id", ForeignKey("venue.id"), primary_key=True),
        Column("amenity_id", ForeignKey("amenity.id"), primary_key=True),
    )

    class Venue(Base):
        __tablename__ = "venue"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        events: Mapped[list[Event]] = relationship(back_populates="venue")
        amenities: Mapped[list[Amenity]] = relationship(
            secondary=venue_amenity, back_populates="venues", order_by="Amenity.id"
        )

    class Amenity(Base):
        __tablename__ = "amenity"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        venues: Mapped[list[Venue]] = relationship(
            secondary=venue_amenity, back_populates="amenities"
        )

    class EventType(Base):
        __tablename__ = "event_type"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        events: Mapped[list[Event]] = relationship(back_populates="event_type")

    class Genre(Base):
        __tablename__ = "genre"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        events: Mapped[list[Event]] = relationship(secondary=event_genre, back_populates="genres")

    class Event(FeedMixin, Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"))
        event_type_id: Mapped[int | None] = mapped_column(ForeignKey("event_type.id"))
        venue: Mapped[Venue | None] = relationship(back_populates="events")
        event_type: Mapped[EventType | None] = relationship(back_populates="events")
        genres: Mapped[list[Genre]] = relationship(
            secondary=event_genre, back_populates="events", order_by="Genre.id"
        )
        tickets: Mapped[list[Ticket]] = relationship(back_populates="event", order_by="Ticket.id")

    class Ticket(Base):
        __tablename__ = "ticket"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
        pence: Mapped[int]
        event: Mapped[Event] = relationship(back_populates="tickets")

    class NameSchema(Schema):
        name = fields.String()

    class VenueSchema(Schema):
        name = fields.String()
        amenities = fields.List(fields.Nested(NameSchema))

    class TicketSchema(Schema):
        pence = fields.Integer()

    class EventSchema(Schema):
        id = fields.Integer()
        name = fields.String()
        venue = fields.Nested(VenueSchema, allow_none=True)
        event_type = fields.Nested(NameSchema, allow_none=True)
        genres = fields.List(fields.Nested(NameSchema))
        tickets = fields.List(fields.Nested(TicketSchema))

    Base.registry.configure()
    return EventModels(Base, Venue, Amenity, EventType, Genre, Event, Ticket, EventSchema)


def register_event_feed(rpde: RPDE, models: EventModels, **options: t.Any) -> None:
    """The events feed, embedding its venue (and the venue's amenities), type, genres and
    tickets."""
    rpde.feed(
        models.Event,
        kind="Event",
        schema=models.EventSchema,
        embeds=["venue.amenities", "event_type", "genres", "tickets"],
        **options,
    )
