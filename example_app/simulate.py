"""A stream of realistic changes to the booking data, for watching the feeds follow."""

from __future__ import annotations

import random
import typing as t
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from rpde_publisher.columns import utcnow

from . import changes
from .models import AnySession
from .models import Offer
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot


@dataclass(frozen=True)
class Change:
    """One change the simulator made: what it did and which feed item it moved."""

    kind: str
    description: str
    feed: str
    item_id: int


class Simulator:
    """Makes one change at a time, each in its own transaction, like a busy front desk.

    Mostly bookings, sometimes an edit, a new session, a price change, a cancellation
    or a deletion, in about the proportions a leisure centre sees.
    """

    def __init__(self, session: AnySession, *, seed: int | None = None) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.actions: list[tuple[Callable[[], Change | None], int]] = [
            (self.book_slot, 35),
            (self.book_session, 25),
            (self.edit_session, 10),
            (self.add_session, 10),
            (self.change_price, 8),
            (self.cancel_session, 7),
            (self.delete_session, 5),
        ]

    def step(self) -> Change:
        """Make one change and commit it; try other kinds when one has nothing to change."""
        actions = [action for action, _ in self.actions]
        weights = [weight for _, weight in self.actions]
        for _ in range(50):
            action = self.rng.choices(actions, weights)[0]
            try:
                change = action()
            except changes.ChangeRefused:
                change = None
            if change is None:
                self.session.rollback()
                continue
            self.session.commit()
            return change
        raise RuntimeError("nothing left to change: reseed the demo data")

    def _pick(self, model: t.Any, *criteria: ColumnElement[bool]) -> t.Any:
        """A random live row matching ``criteria``, found by primary key (fast at any size)."""
        top = self.session.scalar(select(func.max(model.id)))
        if top is None:
            return None
        query = select(model).where(model.deleted.is_(None), *criteria).order_by(model.id).limit(1)
        start = self.rng.randint(1, top)
        return self.session.scalar(query.where(model.id >= start)) or self.session.scalar(query)

    def _upcoming_session(self, *criteria: ColumnElement[bool]) -> ScheduledSession | None:
        return t.cast(
            ScheduledSession | None,
            self._pick(
                ScheduledSession,
                ScheduledSession.start > utcnow(),
                ScheduledSession.cancelled.is_(False),
                *criteria,
            ),
        )

    def book_slot(self) -> Change | None:
        slot = self._pick(Slot, Slot.start > utcnow(), Slot.remaining_uses > 0)
        if slot is None:
            return None
        changes.book_slot(self.session, slot.id)
        return Change("booking", f"booked slot {slot.id}", "facility-use-slots", slot.id)

    def book_session(self) -> Change | None:
        scheduled = self._upcoming_session(ScheduledSession.remaining_capacity > 0)
        if scheduled is None:
            return None
        changes.book_session(self.session, scheduled.id)
        return Change(
            "booking",
            f"booked a place on session {scheduled.id}",
            "scheduled-sessions",
            scheduled.id,
        )

    def edit_session(self) -> Change | None:
        scheduled = self._upcoming_session()
        if scheduled is None:
            return None
        shift = timedelta(minutes=self.rng.choice([-30, -15, 15, 30]))
        capacity = scheduled.maximum_capacity + self.rng.choice([-2, 2, 5])
        capacity = max(capacity, scheduled.maximum_capacity - scheduled.remaining_capacity, 1)
        booked = scheduled.maximum_capacity - scheduled.remaining_capacity
        changes.edit_session(
            scheduled,
            start=scheduled.start + shift,
            duration_minutes=int(scheduled.duration.total_seconds() // 60),
            maximum_capacity=capacity,
            remaining_capacity=capacity - booked,
        )
        return Change(
            "edit",
            f"moved session {scheduled.id} by {int(shift.total_seconds() // 60)} min,"
            f" capacity {capacity}",
            "scheduled-sessions",
            scheduled.id,
        )

    def add_session(self) -> Change | None:
        series = self._pick(SessionSeries)
        if series is None:
            return None
        scheduled = changes.add_session(self.session, series)
        self.session.flush()
        return Change(
            "new session",
            f"added session {scheduled.id} to series {series.id}",
            "scheduled-sessions",
            scheduled.id,
        )

    def change_price(self) -> Change | None:
        top = self.session.scalar(select(func.max(Offer.id)))
        if top is None:
            return None
        offer = self.session.get(Offer, self.rng.randint(1, top))
        if offer is None or offer.series.deleted is not None:
            return None
        step = Decimal(self.rng.choice(["-0.50", "-0.25", "0.25", "0.50"]))
        price = max(offer.price + step, Decimal("1.00"))
        changes.change_price(offer, price)
        return Change(
            "price",
            f"{offer.name} price of series {offer.series_id} is now {price}",
            "session-series",
            offer.series_id,
        )

    def cancel_session(self) -> Change | None:
        scheduled = self._upcoming_session()
        if scheduled is None:
            return None
        changes.set_cancelled(scheduled, True)
        return Change(
            "cancellation", f"cancelled session {scheduled.id}", "scheduled-sessions", scheduled.id
        )

    def delete_session(self) -> Change | None:
        scheduled = self._upcoming_session()
        if scheduled is None:
            return None
        changes.delete_session(self.session, scheduled)
        return Change(
            "deletion", f"deleted session {scheduled.id}", "scheduled-sessions", scheduled.id
        )
