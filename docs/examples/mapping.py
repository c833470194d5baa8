"""docs/mapping.md's worked example: a booking system's tables as OpenActive feeds."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.openactive.models import DayOfWeek
from rpde_publisher.openactive.models import item_schema
from rpde_publisher.openactive.models import Offer
from rpde_publisher.openactive.models import Organization
from rpde_publisher.openactive.models import Place
from rpde_publisher.openactive.models import PostalAddress
from rpde_publisher.openactive.models import ScheduledSession
from rpde_publisher.openactive.models import SessionSeries

SITE = "https://leisure.example.com"
#: The booking system's weekday numbers (Monday is 0) as OpenActive's days.
DAYS: list[DayOfWeek] = [
    "https://schema.org/Monday",
    "https://schema.org/Tuesday",
    "https://schema.org/Wednesday",
    "https://schema.org/Thursday",
    "https://schema.org/Friday",
    "https://schema.org/Saturday",
    "https://schema.org/Sunday",
]
SWIMMING = "https://openactive.io/activity-list#2750229d-b725-4171-9276-376be913957c"


class Base(DeclarativeBase):
    pass


class Venue(Base):
    __tablename__ = "venue"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    street: Mapped[str]
    town: Mapped[str]
    county: Mapped[str]
    postcode: Mapped[str]
    phone: Mapped[str | None]
    lat: Mapped[float]
    lng: Mapped[float]


class Class(FeedMixin, Base):
    __tablename__ = "class"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    blurb: Mapped[str | None]
    price: Mapped[Decimal]
    weekday: Mapped[int]
    starts_at: Mapped[time]
    minutes: Mapped[int]
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    venue: Mapped[Venue] = relationship()


class Occurrence(FeedMixin, Base):
    __tablename__ = "occurrence"
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class.id"))
    starts: Mapped[datetime]
    ends: Mapped[datetime]
    cancelled: Mapped[bool] = mapped_column(default=False)
    class_: Mapped[Class] = relationship()


ORGANIZER: Organization = {"@type": "Organization", "@id": f"{SITE}/#org", "name": "Leisure Co"}


def place(venue: Venue) -> Place:
    address: PostalAddress = {
        "@type": "PostalAddress",
        "streetAddress": venue.street,
        "addressLocality": venue.town,
        "addressRegion": venue.county,
        "postalCode": venue.postcode,
        "addressCountry": "GB",
    }
    return {
        "@type": "Place",
        "@id": f"{SITE}/venues/{venue.id}",
        "name": venue.name,
        "telephone": venue.phone,  # None when unknown: left out of the item
        "address": address,
        "geo": {"@type": "GeoCoordinates", "latitude": venue.lat, "longitude": venue.lng},
    }


def session_series(row: Class) -> SessionSeries:
    offer: Offer = {
        "@type": "Offer",
        "@id": f"{SITE}/classes/{row.id}#offer",
        "price": float(row.price),
        "priceCurrency": "GBP",
    }
    return {
        "@type": "SessionSeries",
        "@id": f"{SITE}/classes/{row.id}",
        "url": f"{SITE}/classes/{row.id}",
        "name": row.title,
        "description": row.blurb,
        "location": place(row.venue),
        "activity": [
            {
                "@type": "Concept",
                "@id": SWIMMING,
                "prefLabel": "Swimming",
                "inScheme": "https://openactive.io/activity-list",
            }
        ],
        "organizer": ORGANIZER,
        "offers": [offer],
        "eventSchedule": [
            {
                "@type": "PartialSchedule",
                "repeatFrequency": "P1W",
                "byDay": [DAYS[row.weekday]],
                "startTime": row.starts_at,  # a time: written as 18:00:00
                "duration": timedelta(minutes=row.minutes),
                "scheduleTimezone": "Europe/London",
            }
        ],
    }


def scheduled_session(row: Occurrence) -> ScheduledSession:
    return {
        "@type": "ScheduledSession",
        "@id": f"{SITE}/occurrences/{row.id}",
        "superEvent": f"{SITE}/classes/{row.class_id}",
        "startDate": row.starts,  # a datetime: written as 2027-01-05T18:00:00Z
        "endDate": row.ends,
        "duration": row.ends - row.starts,  # a timedelta: written as PT45M
        "eventStatus": (
            "https://schema.org/EventCancelled"
            if row.cancelled
            else "https://schema.org/EventScheduled"
        ),
    }


rpde = RPDE()
rpde.feed(Class, kind="SessionSeries", schema=item_schema(session_series), embeds=["venue"])
rpde.feed(Occurrence, kind="ScheduledSession", schema=item_schema(scheduled_session))
