"""Fresh test models for each test: a small booking system with three kinds of feed."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import Flask
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.columns import UTCDateTime


@dataclass
class Models:
    Base: type[DeclarativeBase]
    Organisation: t.Any
    Place: t.Any
    Offer: t.Any
    Series: t.Any
    Facility: t.Any
    Change: t.Any
    Occurrence: t.Any
    SeriesSchema: type[Schema]
    FacilitySchema: type[Schema]
    ChangeSchema: type[Schema]
    OccurrenceSchema: type[Schema]


def make_models() -> Models:
    """New mapped classes on a new metadata, so tests never share registrations."""

    class Base(DeclarativeBase):
        pass

    class Organisation(Base):
        __tablename__ = "organisation"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        publishes_open_data: Mapped[bool] = mapped_column(Boolean, default=True)

    class Place(Base):
        __tablename__ = "place"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))

    class Series(FeedMixin, Base):
        __tablename__ = "series"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))
        notes: Mapped[str | None] = mapped_column(String(100), default=None)
        place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"))
        organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
        place: Mapped[Place | None] = relationship()
        organisation: Mapped[Organisation | None] = relationship()
        offers: Mapped[list[Offer]] = relationship(
            back_populates="series", cascade="all, delete-orphan", order_by="Offer.id"
        )

    class Offer(Base):
        __tablename__ = "offer"
        id: Mapped[int] = mapped_column(primary_key=True)
        series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
        price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
        series: Mapped[Series] = relationship(back_populates="offers")

    class Facility(FeedMixin, Base):
        """String ids, to prove they round-trip through next URLs."""

        __tablename__ = "facility"
        id: Mapped[str] = mapped_column(String(100), primary_key=True)
        name: Mapped[str] = mapped_column(String(100))

    class Change(FeedMixin, Base):
        """A change-number feed."""

        __tablename__ = "change"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(100))

    class Occurrence(FeedMixin, Base):
        """A child feed whose filter reaches the organisation through its series."""

        __tablename__ = "occurrence"
        id: Mapped[int] = mapped_column(primary_key=True)
        series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
        starts: Mapped[datetime] = mapped_column(UTCDateTime())
        series: Mapped[Series] = relationship()

    class PlaceSchema(Schema):
        name = fields.String()

    class OfferSchema(Schema):
        price = fields.Decimal(as_string=True)

    class SeriesSchema(Schema):
        id = fields.Integer()
        name = fields.String()
        place = fields.Nested(PlaceSchema, allow_none=True)
        offers = fields.List(fields.Nested(OfferSchema))

    class FacilitySchema(Schema):
        id = fields.String()
        name = fields.String()

    class ChangeSchema(Schema):
        name = fields.String()

    class OccurrenceSchema(Schema):
        series_id = fields.Integer()
        starts = fields.DateTime()

    # Configure now: a later test's configure step must not meet these half-collected.
    Base.registry.configure()
    return Models(
        Base,
        Organisation,
        Place,
        Offer,
        Series,
        Facility,
        Change,
        Occurrence,
        SeriesSchema,
        FacilitySchema,
        ChangeSchema,
        OccurrenceSchema,
    )


def register_feeds(rpde: RPDE, models: Models, **series_options: t.Any) -> None:
    """The standard three feeds: series (embeds), facilities (string ids), changes."""
    series_options.setdefault("embeds", ["place", "offers", "organisation"])
    rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema, **series_options)
    rpde.feed(models.Facility, kind="FacilityUse", schema=models.FacilitySchema)
    rpde.feed(models.Change, kind="Event", schema=models.ChangeSchema, ordering="change_number")


def make_app(engine: Engine, rpde: RPDE, read_session: t.Any = None, **config: t.Any) -> Flask:
    """A Flask app serving ``rpde``'s feeds from ``engine`` through a scoped session."""
    app = Flask(__name__)
    # The test models' data is a minimal stand-in, not OpenActive's model: no item checks.
    app.config.update(
        TESTING=True, CACHE_TYPE="NullCache", RPDE_SETTLE_SECONDS=0.05, RPDE_ITEM_CHECKS="off"
    )
    app.config.update(config)
    Session = scoped_session(sessionmaker(engine))
    rpde.init_app(app, session=Session, read_session=read_session)

    @app.teardown_appcontext
    def _remove(exc: BaseException | None) -> None:
        Session.remove()

    app.extensions["test_session"] = Session
    return app
