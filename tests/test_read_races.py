"""Feeds rendered on read (``render_at="read"``, or ``data=None``: on every read): a read
must never serve an embedded row's old values that no later change of the item will
correct.

The race: an item is linked to a place in one transaction while another renames the
place. The rename looks for the place's items before the link is committed, so it does
not move the item. If the link then committed while the rename was still open, a read in
between would render the item with the old name, and nothing would ever move the item
again. The linking transaction must wait for the rename to end, as a render at commit
does (see ``tests/test_embedded_races.py``). On MariaDB the foreign-key check already
locks the place when the item is linked, so this order cannot arise there.
"""

from __future__ import annotations

import threading
import typing as t

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE

from .models import make_app
from .models import Models
from .models import register_feeds
from .races import in_thread
from .races import link_to_place
from .races import new_place
from .races import share_locks_of_a_booking_and_a_move
from .races import waits_for_a_lock
from .walking import settle
from .walking import walk

pytestmark = pytest.mark.slow

FEED = "http://localhost/openactive/feeds/session-series"


@pytest.fixture(params=["render_at=read", "data=None"])
def rpde(request: pytest.FixtureRequest, models: Models) -> RPDE:
    """The standard feeds, the series rendered on read: stored by the first read, or
    rendered on every read (no stored data)."""
    extension = RPDE()
    if request.param == "data=None":
        register_feeds(extension, models, data=None)
    else:
        register_feeds(extension, models, render_at="read")
    return extension


@pytest.mark.parametrize("race_engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("link", ["created", "moved"])
def test_an_item_linked_to_a_place_being_renamed_is_never_served_with_the_old_name(
    race_engine: Engine, models: Models, rpde: RPDE, link: str
) -> None:
    """The linking transaction started writing first (so its stamp is the older one) and
    tries to commit after the rename found no items: it must wait for the rename, and a
    consumer reading meanwhile must end with the new name."""
    place_id = new_place(race_engine, models, "Pool")
    with Session(race_engine) as session:
        existing = models.Series(name="Swim", place=models.Place(name="Gym"))
        session.add(existing)
        session.commit()
        existing_id = existing.id
    client = make_app(race_engine, rpde).test_client()
    settle(race_engine)
    copy: dict[t.Any, t.Any] = {}
    cursor = [walk(client, FEED, copy=copy).last_url]

    linking = Session(race_engine)
    # Flushed: its transaction id is now older than the rename's.
    series_id = link_to_place(linking, models, link, existing_id, place_id)
    renaming = Session(race_engine)
    place = renaming.get(models.Place, place_id)
    assert place is not None
    place.name = "Lido"
    linker: list[threading.Thread] = []
    waited: list[bool] = []

    def link_and_read(connection: t.Any) -> None:  # the rename found no items; committing
        linker.append(in_thread(linking.commit))
        waited.append(waits_for_a_lock(race_engine, lambda: not linker[0].is_alive()))
        cursor.append(walk(client, cursor[-1], copy=copy).last_url)

    event.listen(renaming.connection(), "commit", link_and_read)
    renaming.commit()
    renaming.close()
    linker[0].join(timeout=30)
    linking.close()
    settle(race_engine)
    walk(client, cursor[-1], copy=copy)  # a consumer goes on from where it was
    assert copy[series_id]["place"] == {"name": "Lido"}, "the consumer kept the old name"
    assert waited == [True], "the link did not wait for the rename"


def test_only_links_made_anew_take_share_locks(race_engine: Engine, models: Models) -> None:
    """Rendering on read, as at commit: a booking writes no share locks onto the item's
    place and organisation; moving the item to another place locks them."""
    booked, moved, _ = share_locks_of_a_booking_and_a_move(race_engine, models)
    assert booked == []
    assert moved == ["organisation_1", "place_1"]
