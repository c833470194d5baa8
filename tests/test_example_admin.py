"""The example app's admin, driven with the test client: each change reaches the right feed."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from .example import Admin
from .example import DATABASES
from .example import eventually
from .example import example_app_on
from .example import feed_links
from .example import feed_states
from .example import FEEDS
from .example import last_item


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[Flask]:
    """The example app, seeded, on embedded SQLite and on PostgreSQL."""
    with example_app_on(request.param, request, tmp_path) as app:
        yield app


@pytest.fixture
def admin(app: Flask) -> Admin:
    admin = Admin(app.test_client())
    assert admin.login().status_code == 303
    return admin


def _upcoming_session_id(app: Flask, **criteria: t.Any) -> int:
    from example_app.models import db
    from example_app.models import ScheduledSession
    from rpde_publisher.columns import utcnow

    with app.app_context():
        query = select(ScheduledSession.id).where(
            ScheduledSession.start > utcnow(),
            ScheduledSession.deleted.is_(None),
            ScheduledSession.cancelled.is_(False),
            ScheduledSession.series.has(organisation_id=1),
        )
        for name, value in criteria.items():
            query = query.where(getattr(ScheduledSession, name) == value)
        return t.cast(int, db.session.scalars(query.order_by(ScheduledSession.id)).first())


def _open_link(admin: Admin, page: t.Any, feed: str, item_id: int) -> None:
    """The page after a change links to the feed page that starts with the changed item."""
    links = [link for link in feed_links(page.text) if f"/feeds/{feed}?" in link]
    assert links, page.text

    def first_on_page() -> None:
        assert admin.client.get(links[0]).get_json()["items"][0]["id"] == item_id

    eventually(first_on_page)


def _moved(admin: Admin, feed: str, item_id: int, after: int = 0) -> dict[str, t.Any]:
    """The item, once a consumer sees it moved to the end of its feed."""

    def check() -> dict[str, t.Any]:
        item = last_item(admin.client, feed)
        assert item["id"] == item_id and item["modified"] > after
        return item

    return eventually(check)


def test_an_edit_moves_the_session_with_its_new_time_and_capacity(admin: Admin) -> None:
    session_id = _upcoming_session_id(admin.client.application)
    before = eventually(lambda: feed_states(admin.client, "scheduled-sessions")[session_id])
    page = f"/admin/sessions/{session_id}"
    response = admin.post(
        page,
        {
            "start": "2031-03-04T18:30",
            "duration_minutes": "75",
            "maximum_capacity": "40",
            "remaining_capacity": "33",
        },
        page=page,
    )
    shown = admin.follow(response)
    assert "saved" in shown.text
    _open_link(admin, shown, "scheduled-sessions", session_id)
    item = _moved(admin, "scheduled-sessions", session_id, before["modified"])
    assert item["state"] == "updated"
    data = item["data"]
    assert data["startDate"] == "2031-03-04T18:30:00Z"  # March: London is on GMT
    assert data["endDate"] == "2031-03-04T19:45:00Z"
    assert data["duration"] == "PT1H15M"
    assert data["maximumAttendeeCapacity"] == 40
    assert data["remainingAttendeeCapacity"] == 33


def test_a_cancellation_keeps_the_session_as_event_cancelled(admin: Admin) -> None:
    session_id = _upcoming_session_id(admin.client.application)
    page = f"/admin/sessions/{session_id}"
    shown = admin.follow(admin.post(f"{page}/cancel", page=page))
    assert "cancelled" in shown.text
    _open_link(admin, shown, "scheduled-sessions", session_id)
    item = _moved(admin, "scheduled-sessions", session_id)
    assert item["state"] == "updated"
    assert item["data"]["eventStatus"] == "https://schema.org/EventCancelled"
    shown = admin.follow(admin.post(f"{page}/reinstate", page=page))
    item = _moved(admin, "scheduled-sessions", session_id, item["modified"])
    assert item["data"]["eventStatus"] == "https://schema.org/EventScheduled"


def test_a_delete_publishes_a_tombstone(admin: Admin) -> None:
    session_id = _upcoming_session_id(admin.client.application)
    page = f"/admin/sessions/{session_id}/delete"
    assert "Delete session" in admin.client.get(page).text
    shown = admin.follow(admin.post(page, page=page))
    assert "deleted" in shown.text
    _open_link(admin, shown, "scheduled-sessions", session_id)
    item = _moved(admin, "scheduled-sessions", session_id)
    assert item == {
        "state": "deleted",
        "kind": "ScheduledSession",
        "id": session_id,
        "modified": item["modified"],
    }
    # Deleted once is deleted: a second delete is refused and moves nothing.
    again = admin.follow(admin.post(page, page=f"/admin/sessions/{session_id}"))
    assert last_item(admin.client, "scheduled-sessions") == item
    assert "already deleted" in again.text or again.status_code == 200


def test_a_booking_takes_a_place_and_moves_the_slot(admin: Admin) -> None:
    from example_app.models import db
    from example_app.models import Slot
    from rpde_publisher.columns import utcnow

    with admin.client.application.app_context():
        slot_id = db.session.scalars(
            select(Slot.id)
            .where(Slot.start > utcnow(), Slot.remaining_uses == 1)
            .where(Slot.facility_use.has(organisation_id=1))
            .order_by(Slot.start, Slot.id)
        ).first()
    before = eventually(lambda: feed_states(admin.client, "facility-use-slots")[slot_id])
    assert before["data"]["remainingUses"] == 1
    shown = admin.follow(admin.post(f"/admin/slots/{slot_id}/book", page="/admin/slots"))
    assert "Booked" in shown.text
    _open_link(admin, shown, "facility-use-slots", slot_id)
    item = _moved(admin, "facility-use-slots", slot_id, before["modified"])
    assert item["data"]["remainingUses"] == 0
    # The slot is now full: a second booking is refused and changes nothing.
    refused = admin.follow(admin.post(f"/admin/slots/{slot_id}/book", page="/admin/slots"))
    assert "fully booked" in refused.text
    assert last_item(admin.client, "facility-use-slots") == item


def test_a_session_booking_takes_one_place(admin: Admin) -> None:
    session_id = _upcoming_session_id(admin.client.application)
    before = eventually(lambda: feed_states(admin.client, "scheduled-sessions")[session_id])
    places = before["data"]["remainingAttendeeCapacity"]
    if places == 0:
        pytest.skip("the first upcoming session happens to be full")
    page = f"/admin/sessions/{session_id}"
    admin.follow(admin.post(f"{page}/book", page=page))
    item = _moved(admin, "scheduled-sessions", session_id, before["modified"])
    assert item["data"]["remainingAttendeeCapacity"] == places - 1


def _organisation_item_ids(app: Flask, organisation_id: int) -> dict[str, set[int]]:
    """The ids, per feed, of every item that belongs to the organisation."""
    from example_app.models import db
    from example_app.models import FacilityUse
    from example_app.models import ScheduledSession
    from example_app.models import SessionSeries
    from example_app.models import Slot

    owned = {
        "session-series": select(SessionSeries.id).where(
            SessionSeries.organisation_id == organisation_id
        ),
        "scheduled-sessions": select(ScheduledSession.id).where(
            ScheduledSession.series.has(organisation_id=organisation_id)
        ),
        "facility-uses": select(FacilityUse.id).where(
            FacilityUse.organisation_id == organisation_id
        ),
        "facility-use-slots": select(Slot.id).where(
            Slot.facility_use.has(organisation_id=organisation_id)
        ),
    }
    with app.app_context():
        return {feed: set(db.session.scalars(query)) for feed, query in owned.items()}


def test_an_opt_out_turns_every_item_of_the_organisation_into_a_tombstone(admin: Admin) -> None:
    owned = _organisation_item_ids(admin.client.application, 1)
    assert all(owned.values())

    def states_of_owned() -> dict[str, set[str]]:
        return {
            feed: {
                item["state"]
                for item_id, item in feed_states(admin.client, feed).items()
                if item_id in ids
            }
            for feed, ids in owned.items()
        }

    assert eventually(states_of_owned) == {feed: {"updated"} for feed in FEEDS}

    def others() -> dict[str, dict[int, tuple[str, int]]]:
        return {
            feed: {
                item_id: (item["state"], item["modified"])
                for item_id, item in feed_states(admin.client, feed).items()
                if item_id not in ids
            }
            for feed, ids in owned.items()
        }

    others_before = others()
    shown = admin.follow(
        admin.post(
            "/admin/organisations/1/publishing", {"publishes": "no"}, page="/admin/organisations"
        )
    )
    assert "has opted out" in shown.text
    links = feed_links(shown.text)
    assert {link.split("/feeds/")[1].split("?")[0] for link in links} == set(FEEDS)
    for link in links:  # each link starts at one of the organisation's (now deleted) items
        feed = link.split("/feeds/")[1].split("?")[0]
        first = eventually(lambda link=link: admin.client.get(link).get_json()["items"][0])
        assert first["id"] in owned[feed] and first["state"] == "deleted"

    def all_deleted() -> None:
        assert states_of_owned() == {feed: {"deleted"} for feed in FEEDS}

    eventually(all_deleted)
    assert others() == others_before  # nobody else's items moved
    admin.follow(
        admin.post(
            "/admin/organisations/1/publishing", {"publishes": "yes"}, page="/admin/organisations"
        )
    )

    def all_back() -> None:
        assert states_of_owned() == {feed: {"updated"} for feed in FEEDS}

    eventually(all_back)


def test_a_price_change_moves_the_series_that_embeds_the_offer(admin: Admin) -> None:
    before = eventually(lambda: feed_states(admin.client, "session-series")[1])
    shown = admin.follow(
        admin.post("/admin/offers/1/price", {"offer1-price": "9.95"}, page="/admin/series/1")
    )
    assert "now £9.95" in shown.text
    _open_link(admin, shown, "session-series", 1)
    item = _moved(admin, "session-series", 1, before["modified"])
    assert {offer["name"]: offer["price"] for offer in item["data"]["offers"]}["Adult"] == 9.95
