"""The OpenActive data (Modelling Opportunity Data 2.0) of each feed's items."""

from __future__ import annotations

import typing as t
from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask import has_app_context
from marshmallow import fields

from rpde_publisher.openactive import CONTEXT
from rpde_publisher.openactive import DateTime
from rpde_publisher.openactive import Duration
from rpde_publisher.openactive import iso_duration
from rpde_publisher.openactive import OpenActiveSchema

#: Where the booking system's own pages live; item ``@id``s are built on it.
DEFAULT_ID_BASE_URL = "https://leisure.example.org"
ACTIVITY_LIST = "https://openactive.io/activity-list"
FACILITY_TYPES = "https://openactive.io/facility-types"
TIMEZONE_NAME = "Europe/London"
SCHEMA_DAYS = [
    f"https://schema.org/{day}"
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
]


def url_for_item(path: str) -> str:
    """The absolute ``@id`` of a thing in the booking system."""
    base = DEFAULT_ID_BASE_URL
    if has_app_context():
        base = current_app.config.get("EXAMPLE_ID_BASE_URL", base)
    return f"{base.rstrip('/')}/{path}"


def images(path: str | None) -> list[dict[str, str]] | None:
    """An image stored at ``path`` on the booking system's site, as OpenActive ``image``."""
    return [{"@type": "ImageObject", "url": url_for_item(path)}] if path else None


def age_range(minimum: int | None, maximum: int | None) -> dict[str, t.Any] | None:
    """Ages from ``minimum`` to ``maximum`` (either open) as a ``QuantitativeValue``."""
    if minimum is None and maximum is None:
        return None
    bounds = {"minValue": minimum, "maxValue": maximum}
    return {"@type": "QuantitativeValue", **{k: v for k, v in bounds.items() if v is not None}}


def opening_hours(place: t.Any) -> list[dict[str, str]]:
    """A venue's weekly opening hours as ``OpeningHoursSpecification``s, in local time."""
    return [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": [SCHEMA_DAYS[hours.weekday]],
            "opens": hours.opens.strftime("%H:%M"),
            "closes": hours.closes.strftime("%H:%M"),
        }
        for hours in place.opening_hours
    ]


class ConceptSchema(OpenActiveSchema):
    type = fields.Constant("Concept", data_key="@type")
    id = fields.String(data_key="@id")
    pref_label = fields.String(data_key="prefLabel")
    in_scheme = fields.Constant(ACTIVITY_LIST, data_key="inScheme")


class FacilityTypeSchema(ConceptSchema):
    in_scheme = fields.Constant(FACILITY_TYPES, data_key="inScheme")


class PersonSchema(OpenActiveSchema):
    type = fields.Constant("Person", data_key="@type")
    id = fields.Function(lambda p: url_for_item(f"leaders/{p.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()


class OrganizationSchema(OpenActiveSchema):
    type = fields.Constant("Organization", data_key="@type")
    id = fields.Function(lambda o: url_for_item(f"organisations/{o.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()
    url = fields.String()
    email = fields.String()
    telephone = fields.String()
    same_as = fields.Function(lambda o: [o.same_as] if o.same_as else None, data_key="sameAs")


class PlaceSchema(OpenActiveSchema):
    type = fields.Constant("Place", data_key="@type")
    id = fields.Function(lambda p: url_for_item(f"places/{p.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()
    address = fields.Function(
        lambda p: {
            "@type": "PostalAddress",
            "streetAddress": p.street_address,
            "addressLocality": p.locality,
            "addressRegion": p.region,
            "postalCode": p.postcode,
            "addressCountry": "GB",
        }
    )
    geo = fields.Function(
        lambda p: {
            "@type": "GeoCoordinates",
            "latitude": float(p.latitude),
            "longitude": float(p.longitude),
        }
    )
    description = fields.String()
    telephone = fields.String()
    url = fields.String()
    image = fields.Function(lambda p: images(p.image_path))
    opening_hours_specification = fields.Function(
        opening_hours, data_key="openingHoursSpecification"
    )
    amenity_feature = fields.Function(
        lambda p: [
            {"@type": amenity.kind, "name": amenity.kind, "value": amenity.available}
            for amenity in p.amenities
        ],
        data_key="amenityFeature",
    )


class OfferSchema(OpenActiveSchema):
    type = fields.Constant("Offer", data_key="@type")
    id = fields.Function(lambda o: url_for_item(f"offers/{o.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()
    price = fields.Decimal(as_string=False)
    price_currency = fields.Constant("GBP", data_key="priceCurrency")
    age_restriction = fields.Function(
        lambda o: age_range(o.minimum_age, o.maximum_age), data_key="ageRestriction"
    )


def weekly_schedule(series: t.Any) -> list[dict[str, t.Any]]:
    """The series' timetable slot as an OpenActive ``PartialSchedule``, in local time."""
    start = datetime.combine(date(2000, 1, 3), series.start_time)  # any Monday will do
    end = start + timedelta(minutes=series.duration_minutes)
    return [
        {
            "@type": "PartialSchedule",
            "repeatFrequency": "P1W",
            "byDay": [SCHEMA_DAYS[series.weekday]],
            "startTime": start.strftime("%H:%M"),
            "endTime": end.strftime("%H:%M"),
            "duration": iso_duration(end - start),
            "scheduleTimezone": TIMEZONE_NAME,
        }
    ]


class SessionSeriesSchema(OpenActiveSchema):
    context = fields.Constant(CONTEXT, data_key="@context")
    type = fields.Constant("SessionSeries", data_key="@type")
    id = fields.Function(lambda s: url_for_item(f"session-series/{s.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()
    description = fields.String()
    url = fields.Function(lambda s: url_for_item(f"session-series/{s.id}"))
    activity = fields.Function(lambda s: [ConceptSchema().dump(s.activity)])
    level = fields.Function(lambda s: [s.level] if s.level else None)
    gender_restriction = fields.Function(
        lambda s: f"https://openactive.io/{s.gender_restriction}", data_key="genderRestriction"
    )
    age_range = fields.Function(
        lambda s: age_range(s.minimum_age, s.maximum_age), data_key="ageRange"
    )
    image = fields.Function(lambda s: images(s.image_path))
    leader = fields.Function(lambda s: [PersonSchema().dump(s.leader)] if s.leader else None)
    organizer = fields.Nested(OrganizationSchema, attribute="organisation")
    location = fields.Nested(PlaceSchema, attribute="place")
    start_date = DateTime(attribute="starts", data_key="startDate")
    end_date = DateTime(attribute="ends", data_key="endDate")
    duration = Duration(attribute="duration_minutes")
    event_schedule = fields.Function(weekly_schedule, data_key="eventSchedule")
    offers = fields.List(fields.Nested(OfferSchema))


class ScheduledSessionSchema(OpenActiveSchema):
    context = fields.Constant(CONTEXT, data_key="@context")
    type = fields.Constant("ScheduledSession", data_key="@type")
    id = fields.Function(lambda s: url_for_item(f"scheduled-sessions/{s.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    url = fields.Function(lambda s: url_for_item(f"scheduled-sessions/{s.id}"))
    super_event = fields.Function(
        lambda s: url_for_item(f"session-series/{s.series_id}"), data_key="superEvent"
    )
    # A session is led, and sold, as its series is.
    leader = fields.Function(
        lambda s: [PersonSchema().dump(s.series.leader)] if s.series.leader else None
    )
    offers = fields.Function(lambda s: OfferSchema(many=True).dump(s.series.offers))
    start_date = DateTime(attribute="start", data_key="startDate")
    end_date = DateTime(attribute="end", data_key="endDate")
    duration = Duration()
    maximum_attendee_capacity = fields.Integer(
        attribute="maximum_capacity", data_key="maximumAttendeeCapacity"
    )
    remaining_attendee_capacity = fields.Integer(
        attribute="remaining_capacity", data_key="remainingAttendeeCapacity"
    )
    event_status = fields.Function(
        lambda s: (
            "https://schema.org/EventCancelled"
            if s.cancelled
            else "https://schema.org/EventScheduled"
        ),
        data_key="eventStatus",
    )


def facility_offer(facility: t.Any, path: str, price: t.Any) -> dict[str, t.Any]:
    """The hire of a facility (or one of its slots) at ``price``, for those old enough."""
    offer = {
        "@type": "Offer",
        "@id": url_for_item(path),
        "name": "Standard hire",
        "price": float(price),
        "priceCurrency": "GBP",
    }
    restriction = age_range(facility.minimum_age, None)
    return {**offer, "ageRestriction": restriction} if restriction else offer


class FacilityUseSchema(OpenActiveSchema):
    context = fields.Constant(CONTEXT, data_key="@context")
    type = fields.Constant("FacilityUse", data_key="@type")
    id = fields.Function(lambda f: url_for_item(f"facility-uses/{f.id}"), data_key="@id")
    identifier = fields.Integer(attribute="id")
    name = fields.String()
    description = fields.String()
    url = fields.Function(lambda f: url_for_item(f"facility-uses/{f.id}"))
    facility_type = fields.Function(
        lambda f: [FacilityTypeSchema().dump(f.facility_type)], data_key="facilityType"
    )
    image = fields.Function(lambda f: images(f.image_path))
    # A facility can be booked whenever its venue is open.
    hours_available = fields.Function(lambda f: opening_hours(f.place), data_key="hoursAvailable")
    provider = fields.Nested(OrganizationSchema, attribute="organisation")
    location = fields.Nested(PlaceSchema, attribute="place")
    offers = fields.Function(lambda f: [facility_offer(f, f"facility-uses/{f.id}#offer", f.price)])


class SlotSchema(OpenActiveSchema):
    context = fields.Constant(CONTEXT, data_key="@context")
    type = fields.Constant("Slot", data_key="@type")
    id = fields.Function(
        lambda s: url_for_item(f"facility-uses/{s.facility_use_id}/slots/{s.id}"), data_key="@id"
    )
    identifier = fields.Integer(attribute="id")
    facility_use = fields.Function(
        lambda s: url_for_item(f"facility-uses/{s.facility_use_id}"), data_key="facilityUse"
    )
    start_date = DateTime(attribute="start", data_key="startDate")
    end_date = DateTime(attribute="end", data_key="endDate")
    duration = Duration()
    maximum_uses = fields.Integer(data_key="maximumUses")
    remaining_uses = fields.Integer(data_key="remainingUses")
    offers = fields.Function(
        lambda s: [
            facility_offer(
                s.facility_use, f"facility-uses/{s.facility_use_id}/slots/{s.id}#offer", s.price
            )
        ]
    )
