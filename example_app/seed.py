"""Believable seed data: organisations, places, activities, and sessions and slots for weeks."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from .models import Activity
from .models import FacilityUse
from .models import Offer
from .models import Organisation
from .models import Place
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot

ACTIVITIES = Path(__file__).parent / "data" / "activities.json"

ORGANISATIONS = [
    ("Riverside Leisure Trust", "https://riverside-leisure.example.org", True),
    ("Northgate Swimming Club", "https://northgate-swimming.example.org", True),
    ("Hillview Community Sports", "https://hillview-sports.example.org", True),
    ("Private Hire Ltd (opted out)", "https://private-hire.example.org", False),
]
PLACES = [
    ("Riverside Leisure Centre", "1 River Road", "Bristol", "BS1 4DJ", "51.4500", "-2.5900"),
    ("Northgate Pool", "22 North Street", "Bristol", "BS7 8AB", "51.4780", "-2.5880"),
    ("Hillview Sports Hall", "5 Hill Lane", "Bath", "BA1 2QH", "51.3810", "-2.3590"),
    ("Harbourside Courts", "9 Quay Side", "Bristol", "BS1 5LL", "51.4490", "-2.6010"),
]
SESSION_ACTIVITIES = [
    "Swimming",
    "Aqua Aerobics",
    "Yoga",
    "Pilates",
    "Spinning",
    "Circuit Training",
    "Boxing",
]
FACILITY_ACTIVITIES = [
    "Badminton",
    "Squash",
    "Tennis",
    "Table Tennis",
    "Football",
    "Netball",
    "Basketball",
]
LEVELS = ["Beginners", "Improvers", "All levels", "Advanced", "Family", "Over 50s"]


@dataclass(frozen=True)
class SeedSize:
    """How much to create."""

    series: int = 40
    sessions_per_series: int = 10
    facility_uses: int = 12
    slots_per_facility: int = 200


def load_activities(session: Session) -> dict[str, Activity]:
    concepts = json.loads(ACTIVITIES.read_text())["concepts"]
    activities = {c["prefLabel"]: Activity(id=c["id"], pref_label=c["prefLabel"]) for c in concepts}
    session.add_all(activities.values())
    return activities


def seed(
    session: Session, size: SeedSize = SeedSize(), *, now: datetime | None = None, rng_seed: int = 7
) -> None:
    """Fill an empty database; a few sessions and slots lie in the past."""
    rng = random.Random(rng_seed)
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    activities = load_activities(session)
    organisations = [
        Organisation(
            name=name, url=url, email=f"hello@{url.split('//')[1]}", publishes_open_data=publishes
        )
        for name, url, publishes in ORGANISATIONS
    ]
    places = [
        Place(
            name=n,
            street_address=a,
            locality=town,
            postcode=p,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
        )
        for n, a, town, p, lat, lon in PLACES
    ]
    session.add_all(organisations + places)
    for number in range(size.series):
        activity = activities[SESSION_ACTIVITIES[number % len(SESSION_ACTIVITIES)]]
        series = SessionSeries(
            name=f"{activity.pref_label} - {rng.choice(LEVELS)}",
            description=(
                f"A friendly {activity.pref_label.lower()} session"
                f" for {rng.choice(LEVELS).lower()}."
            ),
            organisation=organisations[number % len(organisations)],
            place=places[number % len(places)],
            activity=activity,
            duration_minutes=rng.choice([45, 60, 90]),
            offers=[
                Offer(name="Adult", price=Decimal(rng.choice(["4.50", "5.00", "6.25", "7.00"]))),
                Offer(name="Junior", price=Decimal(rng.choice(["2.50", "3.00", "3.50"]))),
            ],
        )
        session.add(series)
        first = now + timedelta(
            days=rng.randint(-3, 2), hours=rng.choice([7, 9, 12, 17, 19]) - now.hour
        )
        for week in range(size.sessions_per_series):
            start = first + timedelta(weeks=week)
            capacity = rng.choice([12, 20, 30])
            session.add(
                ScheduledSession(
                    series=series,
                    start=start,
                    end=start + timedelta(minutes=series.duration_minutes),
                    maximum_capacity=capacity,
                    remaining_capacity=rng.randint(0, capacity),
                )
            )
    for number in range(size.facility_uses):
        activity = activities[FACILITY_ACTIVITIES[number % len(FACILITY_ACTIVITIES)]]
        facility = FacilityUse(
            name=f"{activity.pref_label} court {number // len(FACILITY_ACTIVITIES) + 1}",
            organisation=organisations[number % len(organisations)],
            place=places[(number + 1) % len(places)],
            activity=activity,
        )
        session.add(facility)
        start = now - timedelta(hours=4)
        for _ in range(size.slots_per_facility):
            session.add(
                Slot(
                    facility_use=facility,
                    start=start,
                    end=start + timedelta(minutes=40),
                    maximum_uses=1,
                    remaining_uses=rng.choice([0, 1, 1]),
                    price=Decimal(rng.choice(["8.00", "10.50", "12.00"])),
                )
            )
            start += timedelta(minutes=40)
            if start.hour >= 22:
                start = start.replace(hour=7) + timedelta(days=1)
