"""The example app per organisation: the catalogue, each organisation's site and feeds."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from .example import DATABASES
from .example import eventually
from .example import example_app
from .example import example_app_on
from .example import FEEDS
from .example import ORIGIN
from .test_dataset_site import get_site
from .walking import walk

PREFIX = f"{ORIGIN}/openactive"


@pytest.fixture
def app(tmp_path: Path) -> t.Iterator[Flask]:
    with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}") as app:
        yield app


def owners(app: Flask) -> dict[str, dict[int, int]]:
    """Each feed's item ids and the organisation the database says owns each."""
    from example_app.models import db
    from example_app.models import FacilityUse
    from example_app.models import ScheduledSession
    from example_app.models import SessionSeries
    from example_app.models import Slot

    with app.app_context():

        def pairs(*columns: t.Any) -> list[tuple[int, int]]:
            return [(a, b) for a, b in db.session.execute(select(*columns))]

        series = dict(pairs(SessionSeries.id, SessionSeries.organisation_id))
        facilities = dict(pairs(FacilityUse.id, FacilityUse.organisation_id))
        sessions = pairs(ScheduledSession.id, ScheduledSession.series_id)
        slots = pairs(Slot.id, Slot.facility_use_id)
        return {
            "session-series": series,
            "scheduled-sessions": {id_: series[parent] for id_, parent in sessions},
            "facility-uses": facilities,
            "facility-use-slots": {id_: facilities[parent] for id_, parent in slots},
        }


def test_the_catalogue_lists_each_publishing_organisations_site(app: Flask) -> None:
    client = app.test_client()
    catalog = client.get("/openactive/data-catalog").get_json()
    assert catalog["dataset"] == [f"{PREFIX}/organisations/{key}/" for key in (1, 2, 3)]
    site = get_site(app, "/openactive/organisations/2/").dataset
    assert site["publisher"]["name"] == "Northgate Swimming Club"
    assert site["publisher"]["url"] == "https://northgate-swimming.example.org"
    assert [d["contentUrl"] for d in site["distribution"]] == [
        f"{PREFIX}/organisations/2/feeds/{feed}" for feed in FEEDS
    ]
    # The opted-out organisation has no site, but keeps its feeds (of tombstones).
    assert client.get("/openactive/organisations/4/").status_code == 404
    assert client.get("/openactive/organisations/4/feeds/session-series").status_code == 200
    assert client.get("/openactive/organisations/5/feeds/session-series").status_code == 404


@pytest.mark.parametrize("database", DATABASES)
def test_each_organisations_feeds_hold_exactly_its_items(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with example_app_on(database, request, tmp_path) as app:
        client = app.test_client()
        owned = owners(app)
        for feed in FEEDS:
            whole = walk(client, f"{PREFIX}/feeds/{feed}")
            found: dict[int, int] = {}
            for key in (1, 2, 3, 4):
                result = walk(client, f"{PREFIX}/organisations/{key}/feeds/{feed}")
                ids = [item["id"] for item in result.items]
                assert len(ids) == len(set(ids)), (feed, key)
                found.update(dict.fromkeys(ids, key))
                assert result.items == [item for item in whole.items if item["id"] in set(ids)]
                if key == 4:  # opted out
                    assert ids and result.copy == {}
                else:
                    assert len(result.copy) == len(ids)
            assert found == owned[feed], feed


def test_an_opt_out_reaches_the_organisations_own_feeds(app: Flask) -> None:
    from example_app.changes import set_publishes_open_data
    from example_app.models import db
    from example_app.models import Organisation

    client = app.test_client()
    before = {feed: walk(client, f"{PREFIX}/organisations/3/feeds/{feed}") for feed in FEEDS}
    others = {feed: walk(client, f"{PREFIX}/organisations/2/feeds/{feed}") for feed in FEEDS}
    with app.app_context():
        set_publishes_open_data(db.session.get(Organisation, 3), False)
        db.session.commit()

    def drained() -> None:
        for feed, seen in before.items():
            after = walk(client, seen.last_url, copy=seen.copy)
            assert seen.copy == {}, feed
            assert {item["state"] for item in after.items} <= {"deleted"}

    eventually(drained)
    for feed, seen in others.items():
        assert walk(client, seen.last_url).items == [], feed
    assert f"{PREFIX}/organisations/3/" not in client.get("/openactive/data-catalog").text
