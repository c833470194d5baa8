"""What the admin and the simulator do to the booking data: bookings, edits, cancellations.

Each function changes rows through the ORM and leaves committing to the caller, so the
library's change tracking moves every affected feed item when the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import UTC
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from rpde_publisher.columns import utcnow

from .models import AnySession
from .models import Booking
from .models import Offer
from .models import Organisation
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot
from .seed import TIMEZONE


class ChangeRefused(Exception):
    """The change cannot be made; the message says why, in words for the admin."""


def book_session(session: AnySession, session_id: int, *, now: datetime | None = None) -> Booking:
    """Book one place on a scheduled session, taking one from its remaining capacity.

    One conditional UPDATE decides, so two people can never both take the last place,
    on any database.
    """
    now = now or utcnow()
    taken = session.execute(
        update(ScheduledSession)
        .where(
            ScheduledSession.id == session_id,
            ScheduledSession.deleted.is_(None),
            ScheduledSession.cancelled.is_(False),
            ScheduledSession.start > now,
            ScheduledSession.remaining_capacity > 0,
        )
        .values(remaining_capacity=ScheduledSession.remaining_capacity - 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ChangeRefused(_why_session_unbookable(session, session_id, now))
    _refresh(session, ScheduledSession, session_id)
    booking = Booking(scheduled_session_id=session_id, booked_at=now)
    session.add(booking)
    return booking


def book_slot(session: AnySession, slot_id: int, *, now: datetime | None = None) -> Booking:
    """Book one use of a facility slot, taking one from its remaining uses."""
    now = now or utcnow()
    taken = session.execute(
        update(Slot)
        .where(
            Slot.id == slot_id,
            Slot.deleted.is_(None),
            Slot.start > now,
            Slot.remaining_uses > 0,
        )
        .values(remaining_uses=Slot.remaining_uses - 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        slot = session.get(Slot, slot_id)
        if slot is None or slot.deleted is not None:
            raise ChangeRefused(f"There is no slot {slot_id}.")
        if slot.start <= now:
            raise ChangeRefused("This slot has already started.")
        raise ChangeRefused("This slot is fully booked.")
    _refresh(session, Slot, slot_id)
    booking = Booking(slot_id=slot_id, booked_at=now)
    session.add(booking)
    return booking


def edit_session(
    scheduled: ScheduledSession,
    *,
    start: datetime,
    duration_minutes: int,
    maximum_capacity: int,
    remaining_capacity: int,
) -> None:
    """Move a session or change its capacity."""
    if scheduled.deleted is not None:
        raise ChangeRefused("A deleted session cannot be edited.")
    if duration_minutes < 1:
        raise ChangeRefused("A session lasts at least a minute.")
    if not 0 <= remaining_capacity <= maximum_capacity:
        raise ChangeRefused("Remaining places must be between 0 and the capacity.")
    scheduled.start = start
    scheduled.end = start + timedelta(minutes=duration_minutes)
    scheduled.maximum_capacity = maximum_capacity
    scheduled.remaining_capacity = remaining_capacity


def set_cancelled(scheduled: ScheduledSession, cancelled: bool) -> None:
    """Cancel a session (it stays in the feed, as ``EventCancelled``), or reinstate it."""
    if scheduled.deleted is not None:
        raise ChangeRefused("A deleted session cannot be cancelled or reinstated.")
    scheduled.cancelled = cancelled


def delete_session(session: AnySession, scheduled: ScheduledSession) -> None:
    """Delete a session: the feed publishes it as a deleted item (a tombstone)."""
    if scheduled.deleted is not None:
        raise ChangeRefused("This session is already deleted.")
    session.delete(scheduled)


def set_publishes_open_data(organisation: Organisation, publishes: bool) -> None:
    """Opt an organisation out of open data (its items leave every feed), or back in."""
    organisation.publishes_open_data = publishes


def add_session(session: AnySession, series: SessionSeries) -> ScheduledSession:
    """Add the next weekly session of a series, a week after its latest one (same local time)."""
    latest = session.scalar(
        select(func.max(ScheduledSession.start)).where(ScheduledSession.series_id == series.id)
    )
    if latest is None:
        latest = utcnow().replace(minute=0, second=0, microsecond=0)
    # Wall-clock arithmetic in the centre's zone keeps 19:00 at 19:00 across a clock change.
    start = (latest.astimezone(TIMEZONE) + timedelta(weeks=1)).astimezone(UTC)
    capacity = 20
    scheduled = ScheduledSession(
        series=series,
        start=start,
        end=start + timedelta(minutes=series.duration_minutes),
        maximum_capacity=capacity,
        remaining_capacity=capacity,
        cancelled=False,
    )
    session.add(scheduled)
    # The series' term now runs to this session at least (a change of the series: it moves).
    if series.ends is None or scheduled.end > series.ends:
        series.ends = scheduled.end
    if series.starts is None:
        series.starts = scheduled.start
    return scheduled


def change_price(offer: Offer, price: Decimal) -> None:
    """Change a price: the series that embeds the offer moves in its feed."""
    if price < 0:
        raise ChangeRefused("A price cannot be negative.")
    offer.price = price


def _why_session_unbookable(session: AnySession, session_id: int, now: datetime) -> str:
    scheduled = session.get(ScheduledSession, session_id)
    if scheduled is None or scheduled.deleted is not None:
        return f"There is no session {session_id}."
    if scheduled.cancelled:
        return "This session is cancelled."
    if scheduled.start <= now:
        return "This session has already started."
    return "This session is fully booked."


def _refresh(session: AnySession, model: type, id_: int) -> None:
    """The UPDATE bypassed the identity map: reload the row next time it is read."""
    loaded = session.identity_map.get(session.identity_key(model, id_))
    if loaded is not None:
        session.expire(loaded)
