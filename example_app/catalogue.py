"""The centre's fixed reference data for seeding: contacts, venue details, leaders, facilities."""

from __future__ import annotations

from datetime import time

__all__ = [
    "AMENITIES",
    "FACILITY_ACTIVITIES",
    "FACILITY_DETAILS",
    "LEADERS",
    "LEVELS",
    "OPENING_HOURS",
    "ORGANISATION_CONTACTS",
    "ORGANISATIONS",
    "PLACE_DETAILS",
    "PLACES",
    "SERIES_AUDIENCES",
    "SESSION_ACTIVITIES",
]

#: (name, website, publishes open data) of each organisation.
ORGANISATIONS = [
    ("Riverside Leisure Trust", "https://riverside-leisure.example.org", True),
    ("Northgate Swimming Club", "https://northgate-swimming.example.org", True),
    ("Hillview Community Sports", "https://hillview-sports.example.org", True),
    ("Private Hire Ltd (opted out)", "https://private-hire.example.org", False),
]
PLACES = [
    (
        "Riverside Leisure Centre",
        "1 River Road",
        "Bristol",
        "City of Bristol",
        "BS1 4DJ",
        "51.4500",
        "-2.5900",
    ),
    (
        "Northgate Pool",
        "22 North Street",
        "Bristol",
        "City of Bristol",
        "BS7 8AB",
        "51.4780",
        "-2.5880",
    ),
    ("Hillview Sports Hall", "5 Hill Lane", "Bath", "Somerset", "BA1 2QH", "51.3810", "-2.3590"),
    (
        "Harbourside Courts",
        "9 Quay Side",
        "Bristol",
        "City of Bristol",
        "BS1 5LL",
        "51.4490",
        "-2.6010",
    ),
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
#: Facility activities and what one bookable unit of each is called: together they name
#: its OpenActive facility type ("Badminton Court").
FACILITY_ACTIVITIES = [
    ("Badminton", "court"),
    ("Squash", "court"),
    ("Tennis", "court"),
    ("Table Tennis", "table"),
    ("Football", "pitch"),
    ("Netball", "court"),
    ("Basketball", "court"),
]
LEVELS = ["Beginners", "Improvers", "All levels", "Advanced", "Family", "Over 50s"]

#: Telephone and social profile (``sameAs``) of each organisation, in seed order.
ORGANISATION_CONTACTS = [
    ("0117 496 0100", "https://www.facebook.com/riversideleisure.example"),
    ("0117 496 0200", "https://www.instagram.com/northgateswimming.example"),
    ("01225 496 300", "https://www.facebook.com/hillviewsports.example"),
    ("0117 496 0400", "https://www.facebook.com/privatehire.example"),
]

#: Description and telephone of each venue, in seed order.
PLACE_DETAILS = [
    (
        "A riverside leisure centre with a 25m pool, studios and a sports hall.",
        "0117 496 0101",
    ),
    ("A community pool with a 25m main pool and a learner pool.", "0117 496 0201"),
    ("A four-court sports hall with a fitness suite.", "01225 496 301"),
    ("Indoor and outdoor courts by the harbour.", "0117 496 0401"),
]

#: Opening hours by weekday (0 is Monday), the same at every venue; slots fit inside them.
OPENING_HOURS = [(weekday, time(6, 30), time(22, 0)) for weekday in range(5)] + [
    (5, time(7, 0), time(22, 0)),
    (6, time(7, 0), time(22, 0)),
]

#: Each venue's amenities (OpenActive feature types) and whether it has them, in seed order.
AMENITIES = [
    {
        "ChangingFacilities": True,
        "Showers": True,
        "Lockers": True,
        "Towels": False,
        "Creche": True,
        "Parking": True,
    },
    {
        "ChangingFacilities": True,
        "Showers": True,
        "Lockers": True,
        "Towels": False,
        "Creche": False,
        "Parking": False,
    },
    {
        "ChangingFacilities": True,
        "Showers": True,
        "Lockers": False,
        "Towels": False,
        "Creche": False,
        "Parking": True,
    },
    {
        "ChangingFacilities": True,
        "Showers": False,
        "Lockers": False,
        "Towels": False,
        "Creche": False,
        "Parking": True,
    },
]

LEADERS = [
    "Amira Khan",
    "Ben Carter",
    "Chloe Davies",
    "Daniel Okafor",
    "Ella Morgan",
    "Finn O'Brien",
    "Grace Liu",
]

#: Who a series suits, by its level: (gender restriction, minimum age, maximum age).
SERIES_AUDIENCES = {
    "Beginners": ("NoRestriction", 16, None),
    "Improvers": ("NoRestriction", 16, None),
    "All levels": ("NoRestriction", 16, None),
    "Advanced": ("NoRestriction", 18, None),
    "Family": ("NoRestriction", 5, None),
    "Over 50s": ("NoRestriction", 50, None),
}

#: Each facility type's usual slot price and the youngest who may book it.
FACILITY_DETAILS = {
    "Badminton Court": ("10.50", 14),
    "Squash Court": ("10.50", 14),
    "Tennis Court": ("12.00", 14),
    "Table Tennis Table": ("8.00", 11),
    "Football Pitch": ("12.00", 16),
    "Netball Court": ("10.50", 14),
    "Basketball Court": ("10.50", 14),
}
