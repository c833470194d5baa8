"""Writes through the ORM with change tracking, against the same writes with the toolkit off."""

from __future__ import annotations

import itertools
import random
import typing as t
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from .apps import bench_app
from .plain import copy_booking_tables
from .plain import PlainSlot
from .timing import interleaved


@dataclass
class WriteFigures:
    #: Booking a slot: load it, change ``remaining_uses``, commit. (tracked ms, plain ms)
    update: tuple[float, float]
    #: Adding a slot to a facility, committed.
    insert: tuple[float, float]
    spread: float


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

        updates = interleaved({"tracked": book(Slot), "plain": book(PlainSlot)}, repeats=repeats)
        inserts = interleaved({"tracked": add(Slot), "plain": add(PlainSlot)}, repeats=repeats)
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
    )
