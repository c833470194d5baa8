"""An event manager written before rpde_publisher, and the same app after adopting it.

Flask-SQLAlchemy with ``create_all`` and no Alembic, its own ``updated_at`` and
``deleted_at``, string and integer ids, a backref and a many-to-many, and pages that
read and write through the ORM. ``build(adopted=True)`` is the code the adoption guide
(docs/adopting.md) leads to: two columns more on the feed model, one ``rpde.feed()``.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import abort
from flask import Flask
from flask import request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields
from marshmallow import missing
from marshmallow import Schema
from sqlalchemy import BigInteger
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from rpde_publisher import hide_tombstones
from rpde_publisher import RPDE

FEED_PATH = "/openactive/feeds/events"


@dataclass
class HostApp:
    app: Flask
    db: SQLAlchemy
    Venue: t.Any
    Genre: t.Any
    Event: t.Any
    TicketTier: t.Any
    schema: Schema | None = None
    public_only: bool = False

    def close(self) -> None:
        """Dispose of the app's engines (a test's apps must not leave connections open)."""
        with self.app.app_context():
            for engine in self.db.engines.values():
                engine.dispose()

    def published(self) -> dict[str, dict[str, t.Any]]:
        """What the feed should publish now, worked out from the app's own tables."""
        Event = self.Event
        with self.app.app_context():
            query = select(Event).where(Event.deleted_at.is_(None))
            if self.public_only:
                query = query.where(Event.is_public.is_(True))
            assert self.schema is not None
            rows = self.db.session.scalars(query, execution_options={"include_tombstones": True})
            return {event.id: self.schema.dump(event) for event in rows}


def build(
    url: str,
    *,
    adopted: bool = False,
    public_only: bool = False,
    schema_version: int = 1,
    subtitle: bool = False,
) -> HostApp:
    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    event_genres = Table(
        "event_genres",
        Base.metadata,
        Column("event_id", ForeignKey("event.id"), primary_key=True),
        Column("genre_id", ForeignKey("genre.id"), primary_key=True),
    )

    class Venue(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "venue"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))

    class Genre(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "genre"
        id: Mapped[str] = mapped_column(String(40), primary_key=True)  # a slug
        name: Mapped[str] = mapped_column(String(100))

    class Event(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "event"
        id: Mapped[str] = mapped_column(String(40), primary_key=True)
        title: Mapped[str] = mapped_column(String(200))
        starts: Mapped[datetime] = mapped_column(DateTime())
        venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
        is_public: Mapped[bool] = mapped_column(default=True)
        updated_at: Mapped[datetime] = mapped_column(
            DateTime(), default=datetime.utcnow, onupdate=datetime.utcnow
        )
        deleted_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
        venue: Mapped[Venue] = relationship(backref="events")
        genres: Mapped[list[Genre]] = relationship(secondary=event_genres, backref="events")
        tiers: Mapped[list[TicketTier]] = relationship(
            back_populates="event", cascade="all, delete-orphan", order_by="TicketTier.id"
        )
        if subtitle:  # a column a later version of the app adds
            subtitle_text: Mapped[str | None] = mapped_column("subtitle", String(100))
        if adopted:  # the adoption guide's two columns; updated_at stays as it was
            modified: Mapped[int] = mapped_column(BigInteger, server_default="0")
            rpde_data: Mapped[str | None] = mapped_column(Text, deferred=True)

    class TicketTier(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "ticket_tier"
        id: Mapped[int] = mapped_column(primary_key=True)
        event_id: Mapped[str] = mapped_column(ForeignKey("event.id"))
        name: Mapped[str] = mapped_column(String(50))
        price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
        event: Mapped[Event] = relationship(back_populates="tiers")

    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=url,
        CACHE_TYPE="NullCache",
        RPDE_SETTLE_SECONDS=0.05,
        # Its events are mapped to a few properties, not to OpenActive's model yet: its
        # writes log what is missing (docs/adopting.md) rather than fail.
        RPDE_ITEM_CHECKS="warn",
    )
    db.init_app(app)
    host = HostApp(app, db, Venue, Genre, Event, TicketTier, public_only=public_only)
    _host_pages(host)
    if adopted:
        host.schema = _schema(schema_version)
        rpde = RPDE()
        rpde.feed(
            Event,
            kind="Event",
            name="events",
            schema=host.schema,
            modified=Event.modified,
            deleted=Event.deleted_at,
            embeds=["venue", "genres"] + (["tiers"] if schema_version > 1 else []),
            publish_when=Event.is_public.is_(True) if public_only else None,
        )
        rpde.init_app(app, session=db.session)
        hide_tombstones(db.session)
    return host


def _schema(version: int) -> Schema:
    class EventSchema(Schema):
        name = fields.String(attribute="title")
        startDate = fields.DateTime(attribute="starts", format="iso")
        location = fields.Function(lambda event: {"name": event.venue.name})
        genres = fields.Function(lambda event: sorted(genre.name for genre in event.genres))

    class EventSchemaWithPrices(EventSchema):
        # New in version 2: only events with ticket tiers say more.
        lowestPrice = fields.Function(
            lambda event: str(min(tier.price for tier in event.tiers)) if event.tiers else missing
        )

    return EventSchema() if version == 1 else EventSchemaWithPrices()


def _host_pages(host: HostApp) -> None:
    """The app's own pages, written without the toolkit in mind."""
    app, db, Event, Venue, Genre = host.app, host.db, host.Event, host.Venue, host.Genre

    @app.get("/")
    def home() -> str:
        events = db.session.scalars(
            select(Event).where(Event.deleted_at.is_(None)).order_by(Event.starts, Event.id)
        )
        return "\n".join(f"{event.id} {event.title}" for event in events)

    @app.get("/events/<id>")
    def detail(id: str) -> str:
        event = db.get_or_404(Event, id)  # forgets deleted_at, as real apps do
        tiers = ", ".join(f"{tier.name} {tier.price}" for tier in event.tiers)
        return f"{event.title} at {event.venue.name}: {tiers}"

    @app.get("/venues/<int:id>")
    def venue(id: str) -> str:
        return "\n".join(sorted(event.id for event in db.get_or_404(Venue, id).events))

    @app.post("/events")
    def create() -> tuple[str, int]:
        form = request.form
        event = Event(
            id=form["id"], title=form["title"], starts=datetime.fromisoformat(form["starts"])
        )
        with db.session.no_autoflush:
            db.session.add(event)
            event.venue = db.session.get(Venue, int(form["venue"]))  # the relationship
            for slug in form.getlist("genre"):
                event.genres.append(db.session.get(Genre, slug))
        db.session.commit()
        return event.id, 201

    @app.post("/events/<id>")
    def edit(id: str) -> str:
        event = db.session.get(Event, id) or abort(404)
        form = request.form
        if "title" in form:
            event.title = form["title"]
        if "public" in form:
            event.is_public = form["public"] == "yes"
        if "genre" in form:
            event.genres.append(db.session.get(Genre, form["genre"]))
        if "tier" in form:
            name, price = form["tier"].split(":")
            event.tiers.append(host.TicketTier(name=name, price=Decimal(price)))
        db.session.commit()
        return "saved"

    @app.post("/events/<id>/cancel")
    def cancel(id: str) -> str:
        event = db.session.get(Event, id) or abort(404)
        event.deleted_at = datetime.utcnow()  # the app's own soft delete
        db.session.commit()
        return "cancelled"

    @app.post("/events/<id>/delete")
    def delete(id: str) -> str:
        db.session.delete(db.session.get(Event, id) or abort(404))
        db.session.commit()
        return "deleted"

    @app.post("/venues/<int:id>")
    def rename_venue(id: int) -> str:
        db.get_or_404(Venue, id).name = request.form["name"]
        db.session.commit()
        return "renamed"


def seed(host: HostApp) -> None:
    """The data the app had before it published anything."""
    db = host.db
    with host.app.app_context():
        db.create_all()
        venues = [host.Venue(id=i, name=name) for i, name in ((1, "Riverside Hall"), (2, "Park"))]
        genres = [host.Genre(id=slug, name=slug.title()) for slug in ("folk", "jazz", "family")]
        db.session.add_all(venues + genres)
        for number in range(1, 13):
            event = host.Event(
                id=f"ev-{number:03}",
                title=f"Event {number}",
                starts=datetime(2027, 1, number, 19, 0),
                venue=venues[number % 2],
                genres=[genres[number % 3]],
            )
            if number % 4 == 0:
                event.tiers.append(host.TicketTier(name="Standard", price=Decimal("8.50")))
            if number == 12:
                event.deleted_at = datetime(2026, 11, 1)  # cancelled long ago
            db.session.add(event)
        db.session.commit()
