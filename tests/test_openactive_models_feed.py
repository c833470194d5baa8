"""A feed rendered by a typed building-block function: published, and valid OpenActive."""

from __future__ import annotations

import importlib.util
import sys
import typing as t
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest
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


def series_feed(
    models: Models, render: t.Callable[[t.Any], SessionSeries] = render_series, **options: t.Any
) -> RPDE:
    """An ``RPDE`` publishing the test models' series through ``render``."""
    rpde = RPDE()
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=item_schema(render),
        embeds=["place", "offers", "organisation"],
        **options,
    )
    return rpde


def test_a_feed_publishes_what_the_building_block_function_returns(
    sqlite_engine: Engine, models: Models, tmp_path: Path
) -> None:
    rpde = series_feed(models)
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


def test_the_worked_example_of_docs_mapping_publishes_valid_openactive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "examples" / "mapping.py"
    spec = importlib.util.spec_from_file_location("mapping_example", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mapping_example", example)  # SQLAlchemy looks it up
    spec.loader.exec_module(example)
    venue = example.Venue(
        id=3,
        name="Main pool",
        street="1 High Street",
        town="Newtown",
        county="Kent",
        postcode="NT1 1AA",
        phone=None,
        lat=51.5,
        lng=-0.1,
    )
    series = example.Class(
        id=1,
        title="Lane swim",
        blurb=None,
        price=Decimal("4.20"),
        weekday=1,
        starts_at=time(18, 0),
        minutes=45,
    )
    series.venue = venue
    start = datetime(2027, 1, 5, 18, 0, tzinfo=UTC)
    occurrence = example.Occurrence(
        id=9, class_id=1, starts=start, ends=start + timedelta(minutes=45), cancelled=True
    )
    schemas = {feed.kind: feed.schema for feed in example.rpde.feeds}

    series_data = schemas["SessionSeries"].dump(series)
    session_data = schemas["ScheduledSession"].dump(occurrence)

    assert "telephone" not in series_data["location"] and "description" not in series_data
    assert series_data["eventSchedule"][0]["byDay"] == ["https://schema.org/Tuesday"]
    assert session_data["startDate"] == "2027-01-05T18:00:00Z"
    assert session_data["duration"] == "PT45M"
    assert session_data["eventStatus"] == "https://schema.org/EventCancelled"
    report = validate(
        [{"name": "series", "data": series_data}, {"name": "session", "data": session_data}],
        tmp_path,
    )
    assert report["misses"] == []
    failures = {r["name"]: r["failures"] for r in report["results"]}  # type: ignore[index]
    assert failures == {"series": [], "session": []}
