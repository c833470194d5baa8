"""In-stream filters and the opt-out (step 3): leavers pass through as tombstones."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import UTC

import pytest
from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE

from .models import make_app
from .models import Models
from .walking import settle
from .walking import walk

SERIES = "http://localhost/openactive/feeds/session-series"
OCCURRENCES = "http://localhost/openactive/feeds/scheduled-sessions"


@pytest.fixture
def opt_out_app(db_engine: Engine, models: Models) -> t.Iterator[t.Any]:
    rpde = RPDE()
    org = models.Organisation
    publishes = org.publishes_open_data.is_(True)
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        embeds=["organisation", "place"],
        publish_when=lambda: models.Series.organisation.has(publishes),
    )
    rpde.feed(
        models.Occurrence,
        kind="ScheduledSession",
        schema=models.OccurrenceSchema,
        embeds=["series.organisation"],
        publish_when=lambda: models.Occurrence.series.has(
            models.Series.organisation.has(publishes)
        ),
    )
    models.Base.metadata.drop_all(db_engine)
    models.Base.metadata.create_all(db_engine)
    yield make_app(db_engine, rpde)
    models.Base.metadata.drop_all(db_engine)


def harvest(
    engine: Engine, client: t.Any, url: str, copy: dict[t.Any, t.Any] | None = None
) -> t.Any:
    settle(engine)
    return walk(client, url, copy=copy)


def test_opting_out_and_in_again(db_engine: Engine, models: Models, opt_out_app: t.Any) -> None:
    client = opt_out_app.test_client()
    with Session(db_engine) as session:
        leaving = models.Organisation(name="Leaving club")
        staying = models.Organisation(name="Staying trust")
        for org in (leaving, staying):
            for n in range(3):
                series = models.Series(name=f"{org.name} {n}", organisation=org)
                session.add(series)
                session.add(
                    models.Occurrence(series=series, starts=datetime(2030, 1, n + 1, tzinfo=UTC))
                )
        session.commit()
        leaving_series = {
            s.id for s in session.query(models.Series).filter_by(organisation=leaving)
        }
        leaving_occurrences = {
            o.id
            for o in session.query(models.Occurrence).filter(
                models.Occurrence.series_id.in_(leaving_series)
            )
        }

        series_walk = harvest(db_engine, client, SERIES)
        occurrence_walk = harvest(db_engine, client, OCCURRENCES)
        assert len(series_walk.copy) == 6 and len(occurrence_walk.copy) == 6

        leaving.publishes_open_data = False  # one column: the organisation opts out
        session.commit()

        # A consumer harvesting incrementally gets a tombstone for each of its items...
        incremental = harvest(db_engine, client, series_walk.last_url, copy=series_walk.copy)
        assert {i["id"] for i in incremental.items if i["state"] == "deleted"} == leaving_series
        assert all("data" not in i for i in incremental.items)
        assert set(incremental.copy) == set(series_walk.copy) - leaving_series
        child = harvest(db_engine, client, occurrence_walk.last_url, copy=occurrence_walk.copy)
        assert {i["id"] for i in child.items if i["state"] == "deleted"} == leaving_occurrences
        assert set(child.copy) == set(occurrence_walk.copy) - leaving_occurrences
        # ... and one starting afresh sees none of its data.
        fresh = harvest(db_engine, client, SERIES)
        assert set(fresh.copy) == set(series_walk.copy) - leaving_series
        assert not any("Leaving" in item.get("data", {}).get("name", "") for item in fresh.items)

        # Edits while opted out never publish data.
        session.get(models.Series, min(leaving_series)).name = "edited while out"
        session.commit()
        again = harvest(db_engine, client, incremental.last_url, copy=incremental.copy)
        assert [i["state"] for i in again.items] == ["deleted"]

        leaving.publishes_open_data = True  # opting in restores everything
        session.commit()
        back = harvest(db_engine, client, again.last_url, copy=again.copy)
        assert {i["id"] for i in back.items if i["state"] == "updated"} == leaving_series
        assert set(back.copy) == set(series_walk.copy)
        assert harvest(db_engine, client, SERIES).copy == back.copy
        child_back = harvest(db_engine, client, child.last_url, copy=child.copy)
        assert set(child_back.copy) == set(occurrence_walk.copy)


def test_moving_a_row_on_the_way_moves_the_items_it_decides(
    db_engine: Engine, models: Models, opt_out_app: t.Any
) -> None:
    """``embeds=["series.organisation"]``: a series handed to an organisation that opted
    out turns its occurrences into tombstones, though no organisation row changed."""
    client = opt_out_app.test_client()
    with Session(db_engine) as session:
        publishing = models.Organisation(name="Publishing trust")
        opted_out = models.Organisation(name="Private club", publishes_open_data=False)
        series = models.Series(name="Swim", organisation=publishing)
        session.add_all([opted_out, series])
        session.add_all(
            [
                models.Occurrence(series=series, starts=datetime(2030, 1, n + 1, tzinfo=UTC))
                for n in range(2)
            ]
        )
        session.commit()
        occurrence_ids = {o.id for o in session.query(models.Occurrence)}
        first = harvest(db_engine, client, OCCURRENCES)
        assert set(first.copy) == occurrence_ids

        series.organisation = opted_out  # a row on the way changes; the child does not
        session.commit()
        moved = harvest(db_engine, client, first.last_url, copy=first.copy)
        assert {i["id"] for i in moved.items if i["state"] == "deleted"} == occurrence_ids
        assert moved.copy == {}

        series.organisation = publishing
        session.commit()
        back = harvest(db_engine, client, moved.last_url, copy=moved.copy)
        assert set(back.copy) == occurrence_ids
        assert back.copy == harvest(db_engine, client, OCCURRENCES).copy


def test_a_filter_on_the_row_itself(db_engine: Engine, models: Models) -> None:
    rpde = RPDE()
    rpde.feed(
        models.Facility,
        kind="FacilityUse",
        schema=models.FacilitySchema,
        publish_when=or_(models.Facility.name.notlike("draft%")),
    )
    models.Base.metadata.drop_all(db_engine)
    models.Base.metadata.create_all(db_engine)
    try:
        client = make_app(db_engine, rpde).test_client()
        with Session(db_engine) as session:
            session.add_all(
                [models.Facility(id="a", name="Court"), models.Facility(id="b", name="draft court")]
            )
            session.commit()
            items = {
                i["id"]: i
                for i in harvest(
                    db_engine, client, "http://localhost/openactive/feeds/facility-uses"
                ).items
            }
            assert items["a"]["state"] == "updated" and items["b"]["state"] == "deleted"
            session.get(models.Facility, "b").name = "Court 2"
            session.commit()
            items = {
                i["id"]: i
                for i in harvest(
                    db_engine, client, "http://localhost/openactive/feeds/facility-uses"
                ).items
            }
            assert (
                items["b"] == {**items["b"], "state": "updated"}
                and items["b"]["data"]["name"] == "Court 2"
            )
    finally:
        models.Base.metadata.drop_all(db_engine)
