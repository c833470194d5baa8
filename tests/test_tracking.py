"""Change tracking through ordinary ORM writes, on every database."""

from __future__ import annotations

import json
import typing as t
from datetime import datetime
from datetime import UTC
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.registry import rules_for

from .models import Models
from .models import register_feeds
from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"


def feed_items(engine: Engine, client: t.Any, url: str = FEED) -> dict[t.Any, dict[str, t.Any]]:
    settle(engine)
    return {item["id"]: item for item in walk(client, url).items}


def stamps(session: Session, model: t.Any) -> dict[int, int]:
    session.expire_all()
    return {id_: modified for id_, modified in session.execute(select(model.id, model.modified))}


@pytest.fixture(params=["commit", "read"])
def rpde(request: pytest.FixtureRequest, models: Models) -> RPDE:
    """Every test here runs with the data rendered at commit and on read."""
    extension = RPDE()
    register_feeds(extension, models, render_at=request.param)
    return extension


def stored_data(session: Session, model: t.Any, id_: t.Any) -> t.Any:
    """The item's data as its feed publishes it: stored at commit, or, rendering on read,
    rendered now (and any data a read stored checked equal to that: never stale)."""
    session.expire_all()
    text = session.scalar(select(model.rpde_data).where(model.id == id_))
    stored = json.loads(text) if text is not None else None
    rules = rules_for(model.__table__)
    assert rules is not None and rules.renderer is not None
    if rules.render_at == "commit":
        return stored
    fresh = rules.renderer.render(session.connection(), [id_]).get(id_)
    current = json.loads(fresh) if fresh is not None else None
    assert stored is None or stored == current, "a read stored data the item no longer has"
    return current


@pytest.fixture
def two_places(session: Session, models: Models) -> tuple[t.Any, t.Any]:
    pool, hall = models.Place(name="Pool"), models.Place(name="Hall")
    session.add_all(
        [
            models.Series(name="swim 1", place=pool),
            models.Series(name="swim 2", place=pool),
            models.Series(name="yoga", place=hall, offers=[models.Offer(price=Decimal("5.00"))]),
        ]
    )
    session.commit()
    return pool, hall


def test_insert_and_update_stamp_render_and_move(
    session: Session, models: Models, tables: Engine, client: t.Any
) -> None:
    first, second = models.Series(name="a"), models.Series(name="b")
    session.add_all([first, second])
    session.commit()
    assert first.modified > 0 and stored_data(session, models.Series, first.id)["name"] == "a"
    before = stamps(session, models.Series)
    first.name = "a, renamed"
    session.commit()
    after = stamps(session, models.Series)
    assert after[first.id] > max(before.values()), "the edited item moves to the end"
    assert after[second.id] == before[second.id], "the others stay put"
    items = feed_items(tables, client)
    assert list(items) == [second.id, first.id]
    assert items[first.id]["data"]["name"] == "a, renamed"


def test_bulk_orm_update_insert_and_update_by_primary_key(
    session: Session, models: Models, tables: Engine, client: t.Any
) -> None:
    session.execute(insert(models.Series), [{"name": f"bulk {i}"} for i in range(4)])
    session.commit()
    assert all(stored_data(session, models.Series, i) for i in range(1, 5)), "bulk inserts render"
    before = stamps(session, models.Series)
    session.execute(update(models.Series).where(models.Series.id <= 2).values(name="where"))
    session.commit()
    session.execute(update(models.Series), [{"id": 4, "name": "by key"}])
    session.commit()
    after = stamps(session, models.Series)
    assert after[1] > before[4] and after[2] > before[4] and after[4] > after[2]
    assert after[3] == before[3]
    items = feed_items(tables, client)
    assert [items[i]["data"]["name"] for i in (1, 2, 3, 4)] == [
        "where",
        "where",
        "bulk 2",
        "by key",
    ]


def test_changing_an_embedded_place_moves_every_series_held_there(
    session: Session, models: Models, two_places: t.Any, tables: Engine, client: t.Any
) -> None:
    pool, _ = two_places
    before = stamps(session, models.Series)
    pool.name = "Olympic pool"
    session.commit()
    after = stamps(session, models.Series)
    assert after[1] > before[3] and after[2] > before[3], "both pool series moved"
    assert after[3] == before[3], "the hall series did not"
    items = feed_items(tables, client)
    assert items[1]["data"]["place"] == {"name": "Olympic pool"}
    assert items[2]["data"]["place"] == {"name": "Olympic pool"}


def test_bulk_update_of_a_child_moves_its_parents(
    session: Session, models: Models, two_places: t.Any, tables: Engine, client: t.Any
) -> None:
    before = stamps(session, models.Series)
    session.execute(update(models.Place).where(models.Place.name == "Hall").values(name="Gym"))
    session.commit()
    after = stamps(session, models.Series)
    assert after[3] > max(before.values()) and after[1] == before[1]
    assert feed_items(tables, client)[3]["data"]["place"] == {"name": "Gym"}


def test_one_to_many_children_added_changed_moved_and_deleted(
    session: Session, models: Models, two_places: t.Any, tables: Engine, client: t.Any
) -> None:
    yoga = session.get(models.Series, 3)
    swim = session.get(models.Series, 1)
    checks = []
    before = stamps(session, models.Series)
    yoga.offers[0].price = Decimal("6.50")
    session.commit()
    after = stamps(session, models.Series)
    checks.append(after[3] > before[3] and after[1] == before[1])
    assert stored_data(session, models.Series, 3)["offers"] == [{"price": "6.50"}]

    before = after
    offer = session.get(models.Offer, 1)
    offer.series = swim  # moves from yoga to swim 1: both change
    session.commit()
    after = stamps(session, models.Series)
    checks.append(after[3] > before[3] and after[1] > before[1] and after[2] == before[2])
    assert stored_data(session, models.Series, 3)["offers"] == []
    assert stored_data(session, models.Series, 1)["offers"] == [{"price": "6.50"}]

    before = after
    swim.offers.clear()  # delete-orphan removes the offer row
    session.commit()
    after = stamps(session, models.Series)
    checks.append(after[1] > before[1] and after[3] == before[3])
    assert stored_data(session, models.Series, 1)["offers"] == []

    before = after
    session.add(models.Offer(series_id=2, price=Decimal("1.00")))
    session.commit()
    after = stamps(session, models.Series)
    checks.append(after[2] > before[2] and after[1] == before[1])

    before = after
    session.execute(delete(models.Offer).where(models.Offer.series_id == 2))
    session.commit()
    after = stamps(session, models.Series)
    checks.append(after[2] > before[2] and after[1] == before[1])
    assert checks == [True] * 5
    assert feed_items(tables, client)[2]["data"]["offers"] == []


def test_delete_becomes_a_tombstone(
    session: Session, models: Models, tables: Engine, client: t.Any
) -> None:
    rows = [models.Series(name=f"s{i}") for i in range(4)]
    session.add_all(rows)
    session.commit()
    session.delete(rows[0])
    session.execute(delete(models.Series).where(models.Series.id == rows[1].id))
    rows[2].deleted = datetime.now(UTC)
    session.commit()
    session.expire_all()
    kept = session.scalars(select(models.Series).order_by(models.Series.id)).all()
    assert len(kept) == 4, "rows are kept"
    assert [row.deleted is not None for row in kept] == [True, True, True, False]
    assert [row.rpde_data is None for row in kept[:3]] == [True, True, True]
    items = feed_items(tables, client)
    assert [items[i]["state"] for i in (1, 2, 3, 4)] == ["deleted", "deleted", "deleted", "updated"]
    assert list(items) == [4, 1, 2, 3], "tombstones moved to the end"
    assert all("data" not in items[i] for i in (1, 2, 3))
    assert session.scalars(models.Series.live()).all() == [kept[3]]
    assert session.scalars(select(models.Series).where(models.Series.is_live)).all() == [kept[3]]
    assert kept[3].is_live and not kept[0].is_live


def test_adding_an_object_with_a_tombstones_id_revives_it(
    session: Session, models: Models, tables: Engine, client: t.Any
) -> None:
    place = models.Place(name="Pool")
    session.add_all([models.Series(name="old", place=place), models.Series(name="other")])
    session.commit()
    session.delete(session.get(models.Series, 1))
    session.commit()
    tombstone_stamp = stamps(session, models.Series)[1]
    place_id = session.scalar(select(models.Place.id))
    session.close()
    with Session(tables) as fresh:
        fresh.add(models.Series(id=1, name="back again", place_id=place_id))
        fresh.commit()
        revived = fresh.get(models.Series, 1)
        assert revived.deleted is None and revived.name == "back again"
        assert stamps(fresh, models.Series)[1] > tombstone_stamp
    items = feed_items(tables, client)
    assert items[1]["state"] == "updated"
    assert items[1]["data"] == {
        "id": 1,
        "name": "back again",
        "place": {"name": "Pool"},
        "offers": [],
    }
    assert list(items)[-1] == 1


def test_reviving_in_the_same_session_that_deleted(session: Session, models: Models) -> None:
    session.add(models.Series(name="x"))
    session.commit()
    session.delete(session.get(models.Series, 1))
    session.commit()
    session.add(models.Series(id=1, name="y"))
    session.commit()
    session.expire_all()
    row = session.get(models.Series, 1)
    assert row.deleted is None and stored_data(session, models.Series, 1)["name"] == "y"


def test_a_failed_transaction_changes_nothing(session: Session, models: Models) -> None:
    session.add(models.Series(name="kept"))
    session.commit()
    before = stamps(session, models.Series)
    session.get(models.Series, 1).name = "rolled back"
    session.flush()
    session.rollback()
    assert stamps(session, models.Series) == before
    assert stored_data(session, models.Series, 1)["name"] == "kept"
    session.add(models.Series(name="after"))
    session.commit()
    assert stored_data(session, models.Series, 2)["name"] == "after"


def test_storing_only_the_data_neither_moves_nor_clears_the_item(
    session: Session, models: Models
) -> None:
    """What a read stores (rpde_publisher.store) is not a change of the item."""
    series = models.Series(name="a")
    session.add(series)
    session.commit()
    before = stamps(session, models.Series)[series.id]
    table = models.Series.__table__
    session.connection().execute(  # not through the ORM, whose change tracking renders
        update(table).where(table.c.id == series.id).values(rpde_data='{"x":1}')
    )
    session.commit()
    assert stamps(session, models.Series)[series.id] == before
    raw = select(models.Series.rpde_data).where(models.Series.id == series.id)
    assert session.scalar(raw) == '{"x":1}'
    session.connection().execute(update(table).where(table.c.id == series.id).values(name="b"))
    session.commit()
    assert stamps(session, models.Series)[series.id] > before, "a change still moves it"
    assert session.scalar(raw) is None, "and clears stale data"


class ScriptSession(Session):
    """A session class of the app's own, made by a factory never handed to ``init_app``."""


def test_a_session_the_app_did_not_hand_to_init_app_still_tracks_and_tombstones(
    tables: Engine, models: Models, client: t.Any
) -> None:
    """The listeners serve every session in the process (docs/architecture.md): a script's
    own session deleting a feed row leaves a tombstone, and its update moves the item."""
    from sqlalchemy.orm import sessionmaker

    from rpde_publisher import tracking

    assert tracking.installed()
    script_sessions = sessionmaker(tables, class_=ScriptSession)
    with script_sessions() as script:
        kept, gone = models.Series(name="kept"), models.Series(name="gone")
        script.add_all([kept, gone])
        script.commit()
        kept_id, gone_id = kept.id, gone.id
        before = feed_items(tables, client)
        kept.name = "renamed by a script"
        script.delete(gone)
        script.commit()
    with Session(tables) as session:
        row = session.get(models.Series, gone_id)
        assert row is not None, "the delete left the row, as a tombstone"
        assert row.deleted is not None
    after = feed_items(tables, client)
    assert after[gone_id]["state"] == "deleted"
    assert after[kept_id]["data"]["name"] == "renamed by a script"
    assert after[kept_id]["modified"] > before[kept_id]["modified"]
