"""A feed rendered by a typed building-block function: published, and valid OpenActive."""

from __future__ import annotations

import typing as t
from datetime import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from conformance.check_items import validate
from rpde_publisher import RPDE
from rpde_publisher.openactive.models import item_schema
from rpde_publisher.openactive.models import Offer
from rpde_publisher.openactive.models import SessionSeries

from .models import make_app
from .models import Models
from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"
BASE = "https://leisure.example.com"


def render_series(series: t.Any) -> SessionSeries:
    """The kind of mapping docs/mapping.md shows: one row and its relations to one item."""
    offers: list[Offer] = [
        {
            "@type": "Offer",
            "@id": f"{BASE}/series/{series.id}#offer-{offer.id}",
            "price": float(offer.price),
            "priceCurrency": "GBP",
        }
        for offer in series.offers
    ]
    return {
        "@type": "SessionSeries",
        "@id": f"{BASE}/series/{series.id}",
        "url": f"{BASE}/swim/{series.id}",
        "name": series.name,
        "description": series.notes,  # None (no notes) is left out
        "location": {
            "@type": "Place",
            "name": series.place.name,
            "geo": {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": -0.1},
        },
        "activity": [
            {
                "@type": "Concept",
                "@id": "https://openactive.io/activity-list#2750229d-b725-4171-9276-376be913957c",
                "prefLabel": "Swimming",
                "inScheme": "https://openactive.io/activity-list",
            }
        ],
        "organizer": {
            "@type": "Organization",
            "@id": f"{BASE}/organisations/{series.organisation.id}",
            "name": series.organisation.name,
        },
        "offers": offers,
        "eventSchedule": [
            {
                "@type": "PartialSchedule",
                "byDay": ["https://schema.org/Tuesday"],
                "startTime": time(20, 15),
                "duration": timedelta(minutes=30),
                "repeatFrequency": "P1W",
                "scheduleTimezone": "Europe/London",
            }
        ],
    }


def test_a_feed_publishes_what_the_building_block_function_returns(
    sqlite_engine: Engine, models: Models, tmp_path: Path
) -> None:
    rpde = RPDE()
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=item_schema(render_series),
        embeds=["place", "offers", "organisation"],
    )
    models.Base.metadata.create_all(sqlite_engine)
    client = make_app(sqlite_engine, rpde).test_client()
    with Session(sqlite_engine) as session:
        series = models.Series(
            name="Swim",
            place=models.Place(name="Main pool"),
            organisation=models.Organisation(name="Leisure Co"),
            offers=[models.Offer(price=Decimal("5.50"))],
        )
        session.add(series)
        session.commit()
        series_id = series.id
    settle(sqlite_engine)

    data = walk(client, FEED).copy[series_id]

    assert data == {
        "@context": "https://openactive.io/",
        "@type": "SessionSeries",
        "@id": f"{BASE}/series/{series_id}",
        "url": f"{BASE}/swim/{series_id}",
        "name": "Swim",
        "location": {
            "@type": "Place",
            "name": "Main pool",
            "geo": {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": -0.1},
        },
        "activity": [
            {
                "@type": "Concept",
                "@id": "https://openactive.io/activity-list#2750229d-b725-4171-9276-376be913957c",
                "prefLabel": "Swimming",
                "inScheme": "https://openactive.io/activity-list",
            }
        ],
        "organizer": {
            "@type": "Organization",
            "@id": f"{BASE}/organisations/1",
            "name": "Leisure Co",
        },
        "offers": [
            {
                "@type": "Offer",
                "@id": f"{BASE}/series/{series_id}#offer-1",
                "price": 5.5,
                "priceCurrency": "GBP",
            }
        ],
        "eventSchedule": [
            {
                "@type": "PartialSchedule",
                "byDay": ["https://schema.org/Tuesday"],
                "startTime": "20:15:00",
                "duration": "PT30M",
                "repeatFrequency": "P1W",
                "scheduleTimezone": "Europe/London",
            }
        ],
    }
    report = validate([{"name": "series", "data": data}], tmp_path)
    assert report["misses"] == []
    assert [result["failures"] for result in report["results"]] == [[]]  # type: ignore[index]
