"""Believable demo data: organisations, places, a weekly timetable, and slots for days ahead.

The data is planned as plain rows (:class:`SeedPlan`), the same for a given size, time
and random seed, so that the ORM path (:func:`seed`, run on first start) and the bulk
path (:mod:`example_app.bulk`, for benchmark sizes) write exactly the same rows.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .catalogue import AMENITIES
from .catalogue import FACILITY_ACTIVITIES
from .catalogue import FACILITY_DETAILS
from .catalogue import LEADERS
from .catalogue import LEVELS
from .catalogue import OPENING_HOURS
from .catalogue import ORGANISATION_CONTACTS
from .catalogue import ORGANISATIONS
from .catalogue import PLACE_DETAILS
from .catalogue import PLACES
from .catalogue import SERIES_AUDIENCES
from .catalogue import SESSION_ACTIVITIES
from .models import Activity
from .models import Amenity
from .models import AnySession
from .models import FacilityType
from .models import FacilityUse
from .models import Leader
from .models import Offer
from .models import OpeningHours
from .models import Organisation
from .models import Place
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot
from .schemas import TIMEZONE_NAME

ACTIVITIES = Path(__file__).parent / "data" / "activities.json"
FACILITY_TYPES = Path(__file__).parent / "data" / "facility-types.json"
#: The centre's timetable is kept in local time; feeds publish UTC.
TIMEZONE = ZoneInfo(TIMEZONE_NAME)

Row = dict[str, Any]

START_TIMES = [time(7, 0), time(9, 30), time(12, 0), time(17, 30), time(19, 0), time(20, 0)]
SLOT_MINUTES = 40
FIRST_SLOT = time(7, 0)
LAST_SLOT_END = time(22, 0)


#: The smallest total :meth:`SeedSize.for_items` makes: one series, one facility.
MINIMUM_ITEMS = 212


@dataclass(frozen=True)
class SeedSize:
    """How much to create."""

    series: int = 40
    sessions_per_series: int = 10
    facility_uses: int = 12
    slots_per_facility: int = 200

    @property
    def items(self) -> int:
        """How many feed items (series, sessions, facility uses and slots) this makes."""
        return self.series * (1 + self.sessions_per_series) + self.facility_uses * (
            1 + self.slots_per_facility
        )

    @classmethod
    def for_items(cls, items: int) -> SeedSize:
        """The default mix of series, sessions, facilities and slots, scaled to about
        ``items`` (never more; at least :data:`MINIMUM_ITEMS`)."""
        if items < MINIMUM_ITEMS:
            raise ValueError(f"the number of items must be at least {MINIMUM_ITEMS}")
        default = cls()
        scale = items / default.items
        size = cls(
            series=max(1, math.floor(default.series * scale)),
            sessions_per_series=default.sessions_per_series,
            facility_uses=max(1, math.floor(default.facility_uses * scale)),
            slots_per_facility=default.slots_per_facility,
        )
        while size.items > items:  # only when a floor of 1 overshoots a small total
            size = replace(size, series=size.series - 1)
        return size


def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a wall-clock time at the centre."""
    return datetime.combine(day, at, tzinfo=TIMEZONE).astimezone(UTC)


class SeedPlan:
    """The rows to seed, table by table, generated on demand (a million rows fit anywhere).

    Each table's rows come from their own random stream, so they do not depend on which
    other tables were generated first.
    """

    def __init__(self, size: SeedSize, *, now: datetime | None = None, rng_seed: int = 7) -> None:
        self.size = size
        self.now = (
            (now or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        )
        self.rng_seed = rng_seed
        self._activities = json.loads(ACTIVITIES.read_text())["concepts"]
        self._activity_ids = {c["prefLabel"]: c["id"] for c in self._activities}
        self._facility_types = json.loads(FACILITY_TYPES.read_text())["concepts"]
        self._facility_type_ids = {c["prefLabel"]: c["id"] for c in self._facility_types}

    def _rng(self, table: str) -> random.Random:
        return random.Random(f"{self.rng_seed}:{table}")

    def activities(self) -> Iterator[Row]:
        for concept in self._activities:
            yield {"id": concept["id"], "pref_label": concept["prefLabel"]}

    def facility_types(self) -> Iterator[Row]:
        for concept in self._facility_types:
            yield {"id": concept["id"], "pref_label": concept["prefLabel"]}

    def organisations(self) -> Iterator[Row]:
        contacts = zip(ORGANISATIONS, ORGANISATION_CONTACTS, strict=True)
        for number, ((name, url, publishes), (phone, same_as)) in enumerate(contacts, 1):
            host = url.split("//")[1]
            yield {
                "id": number,
                "name": name,
                "url": url,
                "email": f"hello@{host}",
                "telephone": phone,
                "same_as": same_as,
                "publishes_open_data": publishes,
            }

    def places(self) -> Iterator[Row]:
        venues = zip(PLACES, PLACE_DETAILS, strict=True)
        for number, ((name, street, town, region, postcode, lat, lon), details) in enumerate(
            venues, 1
        ):
            description, phone = details
            yield {
                "id": number,
                "name": name,
                "street_address": street,
                "locality": town,
                "region": region,
                "postcode": postcode,
                "latitude": Decimal(lat),
                "longitude": Decimal(lon),
                "description": description,
                "telephone": phone,
                "url": f"https://leisure.example.org/venues/{number}",
                "image_path": f"images/venues/{number}.jpg",
            }

    def opening_hours(self) -> Iterator[Row]:
        number = 0
        for place in range(1, len(PLACES) + 1):
            for weekday, opens, closes in OPENING_HOURS:
                number += 1
                yield {
                    "id": number,
                    "place_id": place,
                    "weekday": weekday,
                    "opens": opens,
                    "closes": closes,
                }

    def amenities(self) -> Iterator[Row]:
        number = 0
        for place, amenities in enumerate(AMENITIES, 1):
            for kind, available in amenities.items():
                number += 1
                yield {"id": number, "place_id": place, "kind": kind, "available": available}

    def leaders(self) -> Iterator[Row]:
        for number, name in enumerate(LEADERS, 1):
            yield {"id": number, "name": name}

    def series(self) -> Iterator[Row]:
        rng = self._rng("series")
        for number in range(self.size.series):
            label = SESSION_ACTIVITIES[number % len(SESSION_ACTIVITIES)]
            level = rng.choice(LEVELS)
            gender, minimum_age, maximum_age = SERIES_AUDIENCES[level]
            # In this order: the seed's random sequence, and so the demo data, stays as it was.
            description = f"A friendly {label.lower()} session for {rng.choice(LEVELS).lower()}."
            duration, weekday = rng.choice([45, 60, 90]), rng.randrange(7)
            start_time = rng.choice(START_TIMES)
            days = self._session_days(weekday)
            yield {
                "id": number + 1,
                "name": f"{label} - {level}",
                "description": description,
                "organisation_id": number % len(ORGANISATIONS) + 1,
                "place_id": number % len(PLACES) + 1,
                "activity_id": self._activity_ids[label],
                "duration_minutes": duration,
                "weekday": weekday,
                "start_time": start_time,
                "leader_id": number % len(LEADERS) + 1,
                "level": level,
                "gender_restriction": gender,
                "minimum_age": minimum_age,
                "maximum_age": maximum_age,
                "image_path": f"images/activities/{label.lower().replace(' ', '-')}.jpg",
                "starts": local_to_utc(days[0], start_time) if days else None,
                "ends": local_to_utc(days[-1], start_time) + timedelta(minutes=duration)
                if days
                else None,
            }

    def _session_days(self, weekday: int) -> list[date]:
        """The days of a series' weekly sessions: the first lies in the past week."""
        today = self.now.astimezone(TIMEZONE).date()
        first = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        return [first + timedelta(weeks=week) for week in range(self.size.sessions_per_series)]

    def offers(self) -> Iterator[Row]:
        rng = self._rng("offers")
        for series in range(1, self.size.series + 1):
            yield {
                "id": 2 * series - 1,
                "series_id": series,
                "name": "Adult",
                "price": Decimal(rng.choice(["4.50", "5.00", "6.25", "7.00"])),
                "minimum_age": 18,
                "maximum_age": None,
            }
            yield {
                "id": 2 * series,
                "series_id": series,
                "name": "Junior",
                "price": Decimal(rng.choice(["2.50", "3.00", "3.50"])),
                "minimum_age": 5,
                "maximum_age": 17,
            }

    def sessions(self) -> Iterator[Row]:
        """Weekly sessions of each series; the first of each lies in the past week."""
        rng = self._rng("sessions")
        number = 0
        for series in self.series():
            for day in self._session_days(series["weekday"]):
                start = local_to_utc(day, series["start_time"])
                capacity = rng.choice([12, 20, 30])
                number += 1
                yield {
                    "id": number,
                    "series_id": series["id"],
                    "start": start,
                    "end": start + timedelta(minutes=series["duration_minutes"]),
                    "maximum_capacity": capacity,
                    "remaining_capacity": rng.randint(0, capacity),
                    "cancelled": False,
                }

    def facility_uses(self) -> Iterator[Row]:
        for number in range(self.size.facility_uses):
            label, unit = FACILITY_ACTIVITIES[number % len(FACILITY_ACTIVITIES)]
            facility_type = f"{label} {unit.title()}"
            price, minimum_age = FACILITY_DETAILS[facility_type]
            yield {
                "id": number + 1,
                "name": f"{label} {unit} {number // len(FACILITY_ACTIVITIES) + 1}",
                "description": f"A {facility_type.lower()} to hire by the"
                f" {SLOT_MINUTES} minutes, equipment included.",
                "organisation_id": number % len(ORGANISATIONS) + 1,
                "place_id": (number + 1) % len(PLACES) + 1,
                "facility_type_id": self._facility_type_ids[facility_type],
                "image_path": f"images/facilities/{facility_type.lower().replace(' ', '-')}.jpg",
                "price": Decimal(price),
                "minimum_age": minimum_age,
            }

    def slots(self) -> Iterator[Row]:
        """Back-to-back slots through each day's opening hours, from yesterday on."""
        rng = self._rng("slots")
        first_day = self.now.astimezone(TIMEZONE).date() - timedelta(days=1)
        times = _slot_times()
        number = 0
        for facility in range(1, self.size.facility_uses + 1):
            for index in range(self.size.slots_per_facility):
                day, at = divmod(index, len(times))
                start = local_to_utc(first_day + timedelta(days=day), times[at])
                number += 1
                yield {
                    "id": number,
                    "facility_use_id": facility,
                    "start": start,
                    "end": start + timedelta(minutes=SLOT_MINUTES),
                    "maximum_uses": 1,
                    "remaining_uses": rng.choice([0, 1, 1]),
                    "price": Decimal(rng.choice(["8.00", "10.50", "12.00"])),
                }


def _slot_times() -> list[time]:
    times = []
    minutes = FIRST_SLOT.hour * 60 + FIRST_SLOT.minute
    closing = LAST_SLOT_END.hour * 60 + LAST_SLOT_END.minute
    while minutes + SLOT_MINUTES <= closing:
        times.append(time(minutes // 60, minutes % 60))
        minutes += SLOT_MINUTES
    return times


#: The tables in the order they are filled, with the plan's generator for each.
TABLES: list[tuple[type[Any], str]] = [
    (Activity, "activities"),
    (FacilityType, "facility_types"),
    (Organisation, "organisations"),
    (Place, "places"),
    (OpeningHours, "opening_hours"),
    (Amenity, "amenities"),
    (Leader, "leaders"),
    (SessionSeries, "series"),
    (Offer, "offers"),
    (ScheduledSession, "sessions"),
    (FacilityUse, "facility_uses"),
    (Slot, "slots"),
]


def seed(session: AnySession, size: SeedSize = SeedSize(), *, now: datetime | None = None) -> None:
    """Fill an empty database through the ORM; the caller commits (which renders the items)."""
    plan = SeedPlan(size, now=now)
    for model, rows in TABLES:
        session.add_all(model(**row) for row in getattr(plan, rows)())
        session.flush()  # parents exist before their children's foreign keys name them
    advance_id_sequences(session.connection())


def advance_id_sequences(connection: Connection) -> None:
    """Move PostgreSQL's id sequences past the ids the plan gave, so new rows get new ids.

    Rows inserted with explicit ids leave a sequence where it was; SQLite and MySQL
    follow the highest id by themselves.
    """
    if connection.dialect.name != "postgresql":
        return
    for model, _ in TABLES:
        table = model.__table__
        if not isinstance(table.c.id.type, Integer):
            continue
        name = connection.dialect.identifier_preparer.quote(table.name)
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'),"
                f" coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
            ),
            {"table": table.name},
        )
