"""Writes through the ORM with change tracking, against the same writes with the toolkit off."""

from __future__ import annotations

import itertools
import random
import statistics
import time
import typing as t
from dataclasses import dataclass
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from rpde_publisher.item_checks import CheckLevel
from rpde_publisher.registry import bring_into_force
from rpde_publisher.registry import rules_for
from rpde_publisher.tables import TableSpec

from .apps import bench_app
from .apps import FEED_PATH
from .plain import copy_booking_tables
from .plain import PlainSlot
from .timing import interleaved


@dataclass
class WriteFigures:
    #: Booking a slot: load it, change ``remaining_uses``, commit. (tracked ms, plain ms);
    #: tracked as the example app publishes slots, ``render_at="read"``.
    update: tuple[float, float]
    #: Adding a slot to a facility, committed.
    insert: tuple[float, float]
    spread: float
    #: The same booking and insert with ``render_at="commit"`` (ms, in the same rounds).
    update_rendering_at_commit: float = 0.0
    insert_rendering_at_commit: float = 0.0
    #: Reading a page of ``first_read_items`` slots all written since the last read
    #: (rendered, then stored) vs reading it again (stored): (first ms, again ms).
    first_read: tuple[float, float] = (0.0, 0.0)
    first_read_items: int = 0
    #: The booking and insert rendering at commit with the item checks at ``warn``,
    #: against the ``update_rendering_at_commit``/``insert_...`` ones, run with them off.
    update_checked: float = 0.0
    insert_checked: float = 0.0


def measure_writes(url: str, *, repeats: int) -> WriteFigures:
    """Interleave tracked and plain writes on the database at ``url`` (already seeded)."""
    app = bench_app(url)
    with app.app_context():
        from example_app.models import db
        from example_app.models import Slot

        engine = db.engine
        with engine.begin() as connection:
            copy_booking_tables(connection)
        ids = [row[0] for row in db.session.execute(db.select(Slot.id).limit(2000))]
        facility = db.session.scalar(db.select(Slot.facility_use_id).limit(1))
        template = db.session.get(Slot, ids[0])
        assert template is not None
        start = template.start
        db.session.remove()
        rng = random.Random(3)
        picks = itertools.cycle(rng.sample(ids, len(ids)))
        counter = itertools.count(1)

        def book(model: t.Any) -> t.Callable[[], None]:
            def write() -> None:
                with Session(engine) as session:
                    slot = session.get(model, next(picks))
                    slot.remaining_uses = 1 - slot.remaining_uses
                    session.commit()

            return write

        def add(model: t.Any) -> t.Callable[[], None]:
            def write() -> None:
                number = next(counter)
                with Session(engine) as session:
                    session.add(
                        model(
                            facility_use_id=facility,
                            start=start + timedelta(days=3650 + number),
                            end=start + timedelta(days=3650 + number, minutes=40),
                            maximum_uses=1,
                            remaining_uses=1,
                            price=Decimal("9.00"),
                        )
                    )
                    session.commit()

            return write

        rules = rules_for(Slot.__table__)
        assert rules is not None and rules.render_at == "read"

        checks = rules.checks
        assert checks is not None

        def at_commit(write: t.Callable[[], None], checking: CheckLevel) -> t.Callable[[], None]:
            """``write`` with the slot table's data rendered at commit instead, and the
            item checks at ``checking``."""

            def timed() -> None:
                bring_into_force(replace(rules, render_at="commit"))
                level, checks.level = checks.level, checking
                try:
                    write()
                finally:
                    bring_into_force(rules)
                    checks.level = level

            return timed

        updates = interleaved(
            {
                "tracked": book(Slot),
                "commit": at_commit(book(Slot), "off"),
                "checked": at_commit(book(Slot), "warn"),
                "plain": book(PlainSlot),
            },
            repeats=repeats,
        )
        inserts = interleaved(
            {
                "tracked": add(Slot),
                "commit": at_commit(add(Slot), "off"),
                "checked": at_commit(add(Slot), "warn"),
                "plain": add(PlainSlot),
            },
            repeats=repeats,
        )
        first_read, first_read_items = _first_read(app, rules.spec, repeats=max(3, repeats // 10))
        with engine.begin() as connection:
            from .plain import PlainBase

            PlainBase.metadata.drop_all(connection)
        engine.dispose()
    return WriteFigures(
        update=(updates.median("tracked") * 1000, updates.median("plain") * 1000),
        insert=(inserts.median("tracked") * 1000, inserts.median("plain") * 1000),
        spread=max(
            updates.spread("tracked"),
            updates.spread("plain"),
            inserts.spread("tracked"),
            inserts.spread("plain"),
        ),
        update_rendering_at_commit=updates.median("commit") * 1000,
        insert_rendering_at_commit=inserts.median("commit") * 1000,
        first_read=first_read,
        first_read_items=first_read_items,
        update_checked=updates.median("checked") * 1000,
        insert_checked=inserts.median("checked") * 1000,
    )


def _first_read(app: Flask, spec: TableSpec, *, repeats: int) -> tuple[tuple[float, float], int]:
    """The feed's first page read right after its items lost their data (as every item
    written since the last read has none), then read again; medians in ms."""
    client = app.test_client()
    page = client.get(FEED_PATH).get_json()
    ids = [item["id"] for item in page["items"] if item["state"] == "updated"]
    data = t.cast(t.Any, spec.data_column)
    clear = update(spec.table).where(spec.id_column.in_(ids)).values({data.name: None})
    stored = select(func.count()).where(spec.id_column.in_(ids), data.isnot(None))
    engine = app.extensions["sqlalchemy"].engine
    first, again = [], []
    with app.app_context():
        for _ in range(repeats):
            with engine.begin() as connection:  # data only: the items keep their places
                connection.execute(clear)
            for times in (first, again):
                began = time.perf_counter()
                assert client.get(FEED_PATH).status_code == 200
                times.append(time.perf_counter() - began)
            with engine.connect() as connection:
                assert connection.execute(stored).scalar() == len(ids), "the read stored them"
    return (statistics.median(first) * 1000, statistics.median(again) * 1000), len(ids)
