"""Each feed's item data: a typed function from a row to an OpenActive building block."""

# mypy checks every property name and value type against OpenActive's models; feeds.py
# makes each function a schema with item_schema (it adds @context, writes dates, times
# and durations as OpenActive's strings, and drops empty values).

from __future__ import annotations

import typing as t
from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask import has_app_context

from rpde_publisher.openactive import models as oa

from . import models

#: Where the booking system's own pages live; item ``@id``s are built on it.
DEFAULT_ID_BASE_URL = "https://leisure.example.org"
ACTIVITY_LIST = "https://openactive.io/activity-list"
FACILITY_TYPES = "https://openactive.io/facility-types"
TIMEZONE_NAME = "Europe/London"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SCHEMA_DAYS = [t.cast(oa.DayOfWeek, f"https://schema.org/{day}") for day in _DAYS]


def url_for_item(path: str) -> str:
    """The absolute ``@id`` of a thing in the booking system."""
    base = DEFAULT_ID_BASE_URL
    if has_app_context():
        base = current_app.config.get("EXAMPLE_ID_BASE_URL", base)
    return f"{base.rstrip('/')}/{path}"


def images(path: str | None) -> list[oa.ImageObject] | None:
    """An image stored at ``path`` on the booking system's site, as OpenActive ``image``."""
    return [{"@type": "ImageObject", "url": url_for_item(path)}] if path else None


def age_range(minimum: int | None, maximum: int | None) -> oa.QuantitativeValue | None:
    """Ages from ``minimum`` to ``maximum`` (either open) as a ``QuantitativeValue``."""
    if minimum is None and maximum is None:
        return None
    return {"@type": "QuantitativeValue", "minValue": minimum, "maxValue": maximum}


def concept(row: models.Activity | models.FacilityType, scheme: str) -> oa.Concept:
    """A concept of one of OpenActive's lists (activities, facility types)."""
    return {"@type": "Concept", "@id": row.id, "prefLabel": row.pref_label, "inScheme": scheme}


def person(leader: models.Leader | None) -> list[oa.Person] | None:
    """Who leads a series, as OpenActive ``leader``."""
    if leader is None:
        return None
    return [
        {
            "@type": "Person",
            "@id": url_for_item(f"leaders/{leader.id}"),
            "identifier": leader.id,
            "name": leader.name,
        }
    ]


def organization(organisation: models.Organisation) -> oa.Organization:
    """The organisation that runs a series or a facility."""
    return {
        "@type": "Organization",
        "@id": url_for_item(f"organisations/{organisation.id}"),
        "identifier": organisation.id,
        "name": organisation.name,
        "url": organisation.url,
        "email": organisation.email,
        "telephone": organisation.telephone,
        "sameAs": [organisation.same_as] if organisation.same_as else None,
    }


def opening_hours(place: models.Place) -> list[oa.OpeningHoursSpecification]:
    """A venue's weekly opening hours, in local time."""
    return [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": [SCHEMA_DAYS[hours.weekday]],
            "opens": hours.opens.strftime("%H:%M"),
            "closes": hours.closes.strftime("%H:%M"),
        }
        for hours in place.opening_hours
    ]


def location(place: models.Place) -> oa.Place:
    """A venue: where it is, when it opens, what it has."""
    return {
        "@type": "Place",
        "@id": url_for_item(f"places/{place.id}"),
        "identifier": place.id,
        "name": place.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": place.street_address,
            "addressLocality": place.locality,
            "addressRegion": place.region,
            "postalCode": place.postcode,
            "addressCountry": "GB",
        },
        "geo": {
            "@type": "GeoCoordinates",
            "latitude": float(place.latitude),
            "longitude": float(place.longitude),
        },
        "description": place.description,
        "telephone": place.telephone,
        "url": place.url,
        "image": images(place.image_path),
        "openingHoursSpecification": opening_hours(place),
        # Each amenity's kind is one of OpenActive's feature types (ChangingFacilities, ...).
        "amenityFeature": [
            t.cast(
                oa.ChangingFacilities,
                {"@type": amenity.kind, "name": amenity.kind, "value": amenity.available},
            )
            for amenity in place.amenities
        ],
    }


def series_offer(offer: models.Offer) -> oa.Offer:
    """One price of a series (adult, junior), for the ages it is for."""
    return {
        "@type": "Offer",
        "@id": url_for_item(f"offers/{offer.id}"),
        "identifier": offer.id,
        "name": offer.name,
        "price": float(offer.price),
        "priceCurrency": "GBP",
        "ageRestriction": age_range(offer.minimum_age, offer.maximum_age),
    }


def weekly_schedule(series: models.SessionSeries) -> list[oa.Schedule | oa.PartialSchedule]:
    """The series' timetable slot, in local time."""
    start = datetime.combine(date(2000, 1, 3), series.start_time)  # any day will do
    duration = timedelta(minutes=series.duration_minutes)
    return [
        {
            "@type": "PartialSchedule",
            "repeatFrequency": "P1W",
            "byDay": [SCHEMA_DAYS[series.weekday]],
            "startTime": start.strftime("%H:%M"),
            "endTime": (start + duration).strftime("%H:%M"),
            "duration": duration,
            "scheduleTimezone": TIMEZONE_NAME,
        }
    ]


def session_series(series: models.SessionSeries) -> oa.SessionSeries:
    return {
        "@type": "SessionSeries",
        "@id": url_for_item(f"session-series/{series.id}"),
        "identifier": series.id,
        "name": series.name,
        "description": series.description,
        "url": url_for_item(f"session-series/{series.id}"),
        "activity": [concept(series.activity, ACTIVITY_LIST)],
        "level": [series.level] if series.level else None,
        "genderRestriction": t.cast(
            oa.GenderRestrictionType, f"https://openactive.io/{series.gender_restriction}"
        ),
        "ageRange": age_range(series.minimum_age, series.maximum_age),
        "image": images(series.image_path),
        "leader": person(series.leader),
        "organizer": organization(series.organisation),
        "location": location(series.place),
        "startDate": series.starts,
        "endDate": series.ends,
        "duration": timedelta(minutes=series.duration_minutes),
        "eventSchedule": weekly_schedule(series),
        "offers": [series_offer(offer) for offer in series.offers],
    }


def scheduled_session(session: models.ScheduledSession) -> oa.ScheduledSession:
    return {
        "@type": "ScheduledSession",
        "@id": url_for_item(f"scheduled-sessions/{session.id}"),
        "identifier": session.id,
        "url": url_for_item(f"scheduled-sessions/{session.id}"),
        "superEvent": url_for_item(f"session-series/{session.series_id}"),
        # A session is led, and sold, as its series is.
        "leader": person(session.series.leader),
        "offers": [series_offer(offer) for offer in session.series.offers],
        "startDate": session.start,
        "endDate": session.end,
        "duration": session.duration,
        "maximumAttendeeCapacity": session.maximum_capacity,
        "remainingAttendeeCapacity": session.remaining_capacity,
        "eventStatus": (
            "https://schema.org/EventCancelled"
            if session.cancelled
            else "https://schema.org/EventScheduled"
        ),
    }


def facility_offer(facility: models.FacilityUse, path: str, price: t.Any) -> oa.Offer:
    """The hire of a facility (or one of its slots) at ``price``, for those old enough."""
    return {
        "@type": "Offer",
        "@id": url_for_item(path),
        "name": "Standard hire",
        "price": float(price),
        "priceCurrency": "GBP",
        "ageRestriction": age_range(facility.minimum_age, None),
    }


def facility_use(facility: models.FacilityUse) -> oa.FacilityUse:
    return {
        "@type": "FacilityUse",
        "@id": url_for_item(f"facility-uses/{facility.id}"),
        "identifier": facility.id,
        "name": facility.name,
        "description": facility.description,
        "url": url_for_item(f"facility-uses/{facility.id}"),
        "facilityType": [concept(facility.facility_type, FACILITY_TYPES)],
        "image": images(facility.image_path),
        # A facility can be booked whenever its venue is open.
        "hoursAvailable": opening_hours(facility.place),
        "provider": organization(facility.organisation),
        "location": location(facility.place),
        "offers": [facility_offer(facility, f"facility-uses/{facility.id}#offer", facility.price)],
    }


def slot(slot: models.Slot) -> oa.Slot:
    path = f"facility-uses/{slot.facility_use_id}/slots/{slot.id}"
    return {
        "@type": "Slot",
        "@id": url_for_item(path),
        "identifier": slot.id,
        "facilityUse": url_for_item(f"facility-uses/{slot.facility_use_id}"),
        "startDate": slot.start,
        "endDate": slot.end,
        "duration": slot.duration,
        "maximumUses": slot.maximum_uses,
        "remainingUses": slot.remaining_uses,
        "offers": [facility_offer(slot.facility_use, f"{path}#offer", slot.price)],
    }
