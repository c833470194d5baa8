"""Apps for the dataset-site tests: a publisher's full settings, and hostile text."""

from __future__ import annotations

import typing as t

from flask import Flask
from sqlalchemy.engine import Engine

from rpde_publisher import RPDE

from .models import make_app
from .models import Models

BASE = "https://data.harbour-sports.example.org"

#: Every dataset-site setting, as a publisher with an Open Booking API would set them.
FULL_CONFIG: dict[str, t.Any] = {
    "RPDE_BASE_URL": BASE,
    "RPDE_PUBLISHER_NAME": "Harbour Sports Trust",
    "RPDE_PUBLISHER_LEGAL_NAME": "Harbour Sports Trust CIC",
    "RPDE_PUBLISHER_DESCRIPTION": "Runs three leisure centres by the harbour.",
    "RPDE_PUBLISHER_URL": "https://harbour-sports.example.org/",
    "RPDE_PUBLISHER_LOGO": "https://harbour-sports.example.org/logo.png",
    "RPDE_PUBLISHER_EMAIL": "data@harbour-sports.example.org",
    "RPDE_DISCUSSION_URL": "https://github.com/harbour-sports/opendata/issues",
    "RPDE_DOCUMENTATION_URL": "https://harbour-sports.example.org/developers",
    "RPDE_DATE_PUBLISHED": "2025-03-01T09:30:00+01:00",
    "RPDE_BACKGROUND_IMAGE": "https://harbour-sports.example.org/pool.jpg",
    "RPDE_DATASET_LANGUAGES": ["en-GB", "cy"],
    "RPDE_PLATFORM_NAME": "Harbour Booking",
    "RPDE_PLATFORM_URL": "https://booking.example.com/",
    "RPDE_PLATFORM_VERSION": "4.2.0",
    "RPDE_TEST_SUITE_CERTIFICATE_URL": "https://certificates.example.com/harbour/",
    "RPDE_OPEN_BOOKING_API_BASE_URL": "https://harbour-sports.example.org/api/openbooking",
    "RPDE_OPEN_BOOKING_API_REGISTRATION_URL": "https://harbour-sports.example.org/partners",
    "RPDE_OPEN_BOOKING_API_AUTHENTICATION_AUTHORITY_URL": "https://auth.harbour-sports.example.org",
    "RPDE_OPEN_BOOKING_API_TERMS_OF_SERVICE_URL": "https://harbour-sports.example.org/api-terms",
}


def organisation_settings(name: str) -> dict[str, t.Any]:
    """The dataset-site settings a provider reads from organisation ``name``'s row."""
    slug = name.lower().replace(" ", "-")
    return {
        "RPDE_PUBLISHER_NAME": name,
        "RPDE_PUBLISHER_LEGAL_NAME": name + " CIC",
        "RPDE_PUBLISHER_URL": f"https://{slug}.example.org/",
        "RPDE_PUBLISHER_LOGO": f"https://{slug}.example.org/logo.png",
        "RPDE_PUBLISHER_EMAIL": f"hello@{slug}.example.org",
        "RPDE_DATE_PUBLISHED": "2025-09-15",
    }


#: Text that would run script, add an image or break out of an attribute or the JSON-LD
#: script element if any of it reached the page unescaped.
HOSTILE = (
    "</script><script>alert('pwned')</script>"
    '<img src=x onerror="alert(1)"> "quoted" \'single\' & \u2028 <!--'
)

HOSTILE_CONFIG: dict[str, t.Any] = {
    "RPDE_PUBLISHER_NAME": "Evil " + HOSTILE,
    "RPDE_PUBLISHER_LEGAL_NAME": "Evil Ltd " + HOSTILE,
    "RPDE_PUBLISHER_DESCRIPTION": HOSTILE,
    "RPDE_DATASET_DESCRIPTION": "Data " + HOSTILE,
    "RPDE_DATASET_KEYWORDS": ["Swimming", HOSTILE],
    "RPDE_PLATFORM_NAME": HOSTILE,
    "RPDE_PLATFORM_VERSION": HOSTILE,
}


def site_app(engine: Engine, rpde: RPDE, models: Models, **config: t.Any) -> Flask:
    """A test app serving ``rpde``'s feeds from fresh tables on ``engine``."""
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    return make_app(engine, rpde, **config)
