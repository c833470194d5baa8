"""The leisure centre's booking data: organisations, places, activities, sessions, slots."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import Time
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session

from rpde_publisher import FeedMixin
from rpde_publisher.columns import UTCDateTime


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
#: What the example's helpers take: an ORM session, or Flask-SQLAlchemy's ``db.session``
#: (a scoped session, standing for the current app context's session).
AnySession = Session | scoped_session[t.Any]


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    """A seller: the leisure trust or club that runs sessions and facilities."""

    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(200))
    telephone: Mapped[str | None] = mapped_column(String(30))
    #: The organisation's profile elsewhere (a social media page), published as ``sameAs``.
    same_as: Mapped[str | None] = mapped_column(String(300))
    #: Step 3 of publishing: an organisation that opts out leaves every feed.
    publishes_open_data: Mapped[bool] = mapped_column(Boolean, default=True)


class Place(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "place"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str] = mapped_column(String(200))
    locality: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    description: Mapped[str] = mapped_column(Text, default="")
    telephone: Mapped[str | None] = mapped_column(String(30))
    url: Mapped[str | None] = mapped_column(String(300))
    #: A photo of the venue, relative to the booking system's site.
    image_path: Mapped[str | None] = mapped_column(String(200))
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        cascade="all, delete-orphan", order_by="OpeningHours.id"
    )
    amenities: Mapped[list[Amenity]] = relationship(
        cascade="all, delete-orphan", order_by="Amenity.id"
    )


class OpeningHours(db.Model):  # type: ignore[name-defined,misc]
    """When a venue is open on one day of the week, in the centre's local time."""

    __tablename__ = "opening_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    #: 0 is Monday.
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class Amenity(db.Model):  # type: ignore[name-defined,misc]
    """Whether a venue has one amenity (its ``kind`` is an OpenActive feature type)."""

    __tablename__ = "amenity"
    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    #: ChangingFacilities, Showers, Lockers, Towels, Creche or Parking.
    kind: Mapped[str] = mapped_column(String(40))
    available: Mapped[bool] = mapped_column(Boolean, default=True)


class Leader(db.Model):  # type: ignore[name-defined,misc]
    """An instructor or coach who leads sessions."""

    __tablename__ = "leader"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Activity(db.Model):  # type: ignore[name-defined,misc]
    """A concept of the OpenActive Activity List."""

    __tablename__ = "activity"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    pref_label: Mapped[str] = mapped_column(String(100))


class FacilityType(db.Model):  # type: ignore[name-defined,misc]
    """A concept of the OpenActive Facility Types list."""

    __tablename__ = "facility_type"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    pref_label: Mapped[str] = mapped_column(String(100))


class SessionSeries(FeedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "session_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activity.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: The weekly timetable slot, in the centre's local time (``weekday`` 0 is Monday).
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("leader.id"))
    #: Who it suits, as free text (OpenActive ``level``): "Beginners", "All levels".
    level: Mapped[str | None] = mapped_column(String(50))
    #: NoRestriction, MaleOnly or FemaleOnly (OpenActive's GenderRestrictionType).
    gender_restriction: Mapped[str] = mapped_column(String(20), default="NoRestriction")
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    image_path: Mapped[str | None] = mapped_column(String(200))
    #: When the series runs (its term): from its first session's start to its last one's
    #: end; a session added past the end extends it.
    starts: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organisation: Mapped[Organisation] = relationship()
    place: Mapped[Place] = relationship()
    activity: Mapped[Activity] = relationship()
    leader: Mapped[Leader | None] = relationship()
    offers: Mapped[list[Offer]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="Offer.id"
    )
    sessions: Mapped[list[ScheduledSession]] = relationship(back_populates="series")


class Offer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "offer"
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("session_series.id"))
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    #: Who may buy it: a junior price is for ages 5 to 17, an adult one from 18.
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    series: Mapped[SessionSeries] = relationship(back_populates="offers")


class ScheduledSession(FeedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "scheduled_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("session_series.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # looked up by time
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    maximum_capacity: Mapped[int] = mapped_column(Integer)
    remaining_capacity: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    series: Mapped[SessionSeries] = relationship(back_populates="sessions")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class FacilityUse(FeedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "facility_use"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id"))
    facility_type_id: Mapped[str] = mapped_column(ForeignKey("facility_type.id"))
    image_path: Mapped[str | None] = mapped_column(String(200))
    #: The usual price of one slot (a slot's own ``price`` may differ, e.g. at peak times).
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    #: The youngest who may book it.
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    organisation: Mapped[Organisation] = relationship()
    place: Mapped[Place] = relationship()
    facility_type: Mapped[FacilityType] = relationship()
    slots: Mapped[list[Slot]] = relationship(back_populates="facility_use")


class Slot(FeedMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "slot"
    id: Mapped[int] = mapped_column(primary_key=True)
    facility_use_id: Mapped[int] = mapped_column(ForeignKey("facility_use.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # looked up by time
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    maximum_uses: Mapped[int] = mapped_column(Integer, default=1)
    remaining_uses: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    facility_use: Mapped[FacilityUse] = relationship(back_populates="slots")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class Booking(db.Model):  # type: ignore[name-defined,misc]
    """One place booked on a scheduled session, or one use of a facility slot."""

    __tablename__ = "booking"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_session_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_session.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AdminUser(db.Model):  # type: ignore[name-defined,misc]
    """Someone who may use the admin pages."""

    __tablename__ = "admin_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))


class AdminLogin(db.Model):  # type: ignore[name-defined,misc]
    """One admin login, kept on the server: logging out deletes it, and it ends at
    ``expires`` however busy it is. The browser holds only a random token; the row holds
    its hash, so a copy of the table logs nobody in."""

    __tablename__ = "admin_login"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id", ondelete="CASCADE"))
    #: The password's fingerprint when logging in: a new password ends the login.
    fingerprint: Mapped[str] = mapped_column(String(16))
    expires: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
