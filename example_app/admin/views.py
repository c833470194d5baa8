"""The admin pages: sessions (list, edit, cancel, delete, book), slots, organisations."""

from __future__ import annotations

import typing as t
from datetime import datetime

from flask import abort
from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter

from rpde_publisher.columns import utcnow

from .. import changes
from ..links import FeedLink
from ..links import link_to
from ..links import links_for_organisation
from ..links import newest_stamps
from ..models import db
from ..models import FacilityUse
from ..models import Offer
from ..models import Organisation
from ..models import ScheduledSession
from ..models import SessionSeries
from ..models import Slot
from ..seed import TIMEZONE
from .forms import ActionForm
from .forms import PriceForm
from .forms import SessionForm
from .notices import notify

PAGE_SIZE = 50
#: Beyond this, page numbers are clamped (an OFFSET the database could not take is a 500).
LAST_PAGE = 100_000


def local(moment: datetime) -> datetime:
    """A UTC instant as the centre's wall-clock time."""
    return moment.astimezone(TIMEZONE)


def from_local(wall_clock: datetime) -> datetime:
    """A wall-clock time typed into a form, as an instant in the centre's time zone."""
    return wall_clock.replace(tzinfo=TIMEZONE)


def _page() -> int:
    return min(max(1, request.args.get("page", 1, type=int) or 1), LAST_PAGE)


def _done(message: str, links: t.Sequence[FeedLink] = ()) -> None:
    """Tell the admin what changed, with links to the feed items it moved."""
    notify("success", message, links)


def _refused(error: changes.ChangeRefused) -> None:
    notify("error", str(error))


def _get_or_404(model: type, id_: int) -> t.Any:
    row = db.session.get(model, id_)
    if row is None:
        abort(404)
    return row


def index() -> t.Any:
    return redirect(url_for("admin.sessions"))


def sessions() -> t.Any:
    """Scheduled sessions, upcoming (default) or past, in time order."""
    when = request.args.get("when", "upcoming")
    if when not in ("upcoming", "past"):
        when = "upcoming"
    now = utcnow()
    page = _page()
    query = (
        select(ScheduledSession)
        .where(ScheduledSession.deleted.is_(None))
        .options(joinedload(ScheduledSession.series).joinedload(SessionSeries.place))
    )
    if when == "upcoming":
        query = query.where(ScheduledSession.start >= now).order_by(
            ScheduledSession.start, ScheduledSession.id
        )
    else:
        query = query.where(ScheduledSession.start < now).order_by(
            ScheduledSession.start.desc(), ScheduledSession.id
        )
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "admin/sessions.html",
        sessions=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        when=when,
    )


def edit_session(session_id: int) -> t.Any:
    scheduled = _get_or_404(ScheduledSession, session_id)
    form = SessionForm()
    status = 200
    if request.method == "GET":
        form.start.data = local(scheduled.start).replace(tzinfo=None)
        form.duration_minutes.data = int(scheduled.duration.total_seconds() // 60)
        form.maximum_capacity.data = scheduled.maximum_capacity
        form.remaining_capacity.data = scheduled.remaining_capacity
    elif form.validate_on_submit():
        try:
            changes.edit_session(
                scheduled,
                start=from_local(t.cast(datetime, form.start.data)),
                duration_minutes=t.cast(int, form.duration_minutes.data),
                maximum_capacity=t.cast(int, form.maximum_capacity.data),
                remaining_capacity=t.cast(int, form.remaining_capacity.data),
            )
        except changes.ChangeRefused as error:
            db.session.rollback()
            _refused(error)
        else:
            db.session.commit()
            _done(f"Session {session_id} saved.", [link_to(scheduled)])
            return redirect(url_for("admin.edit_session", session_id=session_id), 303)
    else:
        status = 400
    return (
        render_template(
            "admin/session.html",
            scheduled=scheduled,
            form=form,
            link=link_to(scheduled),
            series_link=link_to(scheduled.series),
            now=utcnow(),
        ),
        status,
    )


def _session_action(session_id: int, apply: t.Callable[[ScheduledSession], str]) -> t.Any:
    scheduled = _get_or_404(ScheduledSession, session_id)
    if ActionForm().validate_on_submit():
        try:
            message = apply(scheduled)
        except changes.ChangeRefused as error:
            db.session.rollback()
            _refused(error)
        else:
            db.session.commit()
            _done(message, [link_to(scheduled)])
    return redirect(url_for("admin.edit_session", session_id=session_id), 303)


def cancel_session(session_id: int) -> t.Any:
    def cancel(scheduled: ScheduledSession) -> str:
        changes.set_cancelled(scheduled, True)
        return f"Session {scheduled.id} cancelled: the feed shows it as EventCancelled."

    return _session_action(session_id, cancel)


def reinstate_session(session_id: int) -> t.Any:
    def reinstate(scheduled: ScheduledSession) -> str:
        changes.set_cancelled(scheduled, False)
        return f"Session {scheduled.id} reinstated."

    return _session_action(session_id, reinstate)


def book_session(session_id: int) -> t.Any:
    def book(scheduled: ScheduledSession) -> str:
        changes.book_session(db.session, scheduled.id)
        return f"Booked a place on session {scheduled.id}."

    return _session_action(session_id, book)


def delete_session(session_id: int) -> t.Any:
    scheduled = _get_or_404(ScheduledSession, session_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            changes.delete_session(db.session, scheduled)
        except changes.ChangeRefused as error:
            db.session.rollback()
            _refused(error)
            return redirect(url_for("admin.edit_session", session_id=session_id), 303)
        db.session.commit()
        _done(
            f"Session {session_id} deleted: the feed shows it as a deleted item.",
            [link_to(scheduled)],
        )
        return redirect(url_for("admin.sessions"), 303)
    return render_template(
        "admin/delete.html", scheduled=scheduled, form=form, link=link_to(scheduled)
    )


def edit_series(series_id: int) -> t.Any:
    """A session series and its prices."""
    series = _get_or_404(SessionSeries, series_id)
    return render_template(
        "admin/series.html",
        series=series,
        forms={
            offer.id: PriceForm(price=f"{offer.price:.2f}", prefix=f"offer{offer.id}")
            for offer in series.offers
        },
        link=link_to(series),
    )


def change_price(offer_id: int) -> t.Any:
    offer = _get_or_404(Offer, offer_id)
    form = PriceForm(prefix=f"offer{offer.id}")
    if form.validate_on_submit():
        changes.change_price(offer, form.amount)
        db.session.commit()
        _done(
            f"{offer.name} price of “{offer.series.name}” is now £{offer.price:.2f}.",
            [link_to(offer.series)],
        )
    else:
        notify("error", "Give a price such as 5 or 5.50.")
    return redirect(url_for("admin.edit_series", series_id=offer.series_id), 303)


def slots() -> t.Any:
    """Upcoming facility slots, soonest first, with what is left to book."""
    now = utcnow()
    page = _page()
    query = (
        select(Slot)
        .where(Slot.deleted.is_(None), Slot.start >= now)
        .options(joinedload(Slot.facility_use).joinedload(FacilityUse.place))
        .order_by(Slot.start, Slot.id)
    )
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "admin/slots.html",
        slots=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
    )


def book_slot(slot_id: int) -> t.Any:
    slot = _get_or_404(Slot, slot_id)
    if ActionForm().validate_on_submit():
        try:
            changes.book_slot(db.session, slot.id)
        except changes.ChangeRefused as error:
            db.session.rollback()
            _refused(error)
        else:
            db.session.commit()
            _done(
                f"Booked {slot.facility_use.name} at {local(slot.start):%a %d %b %H:%M}.",
                [link_to(slot)],
            )
    return redirect(url_for("admin.slots", page=request.args.get("page", 1, type=int)), 303)


def organisations() -> t.Any:
    rows = db.session.execute(
        select(Organisation, func.count(SessionSeries.id))
        .outerjoin(SessionSeries, SessionSeries.organisation_id == Organisation.id)
        .group_by(Organisation.id)
        .order_by(Organisation.id)
    ).all()
    return render_template("admin/organisations.html", organisations=rows, action=ActionForm())


def set_publishing(organisation_id: int) -> t.Any:
    organisation = _get_or_404(Organisation, organisation_id)
    publishes = request.form.get("publishes")
    if ActionForm().validate_on_submit() and publishes in ("yes", "no"):
        since = newest_stamps(db.session)
        changes.set_publishes_open_data(organisation, publishes == "yes")
        db.session.commit()
        state = "publishes open data again" if publishes == "yes" else "has opted out"
        effect = "updated" if publishes == "yes" else "deleted"
        _done(
            f"{organisation.name} {state}: its items are now {effect} in every feed.",
            links_for_organisation(db.session, organisation, since),
        )
    return redirect(url_for("admin.organisations"), 303)


class IdConverter(IntegerConverter):
    """A row id in a URL: a positive 32-bit integer, so no URL can overflow a column."""

    def __init__(self, map: t.Any) -> None:
        super().__init__(map, min=1, max=2**31 - 1)


def _add_id_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("id", IdConverter)


def register(blueprint: Blueprint) -> None:
    blueprint.record_once(_add_id_converter)
    rules: list[tuple[str, t.Callable[..., t.Any], list[str]]] = [
        ("/", index, ["GET"]),
        ("/sessions", sessions, ["GET"]),
        ("/sessions/<id:session_id>", edit_session, ["GET", "POST"]),
        ("/sessions/<id:session_id>/cancel", cancel_session, ["POST"]),
        ("/sessions/<id:session_id>/reinstate", reinstate_session, ["POST"]),
        ("/sessions/<id:session_id>/book", book_session, ["POST"]),
        ("/sessions/<id:session_id>/delete", delete_session, ["GET", "POST"]),
        ("/series/<id:series_id>", edit_series, ["GET"]),
        ("/offers/<id:offer_id>/price", change_price, ["POST"]),
        ("/slots", slots, ["GET"]),
        ("/slots/<id:slot_id>/book", book_slot, ["POST"]),
        ("/organisations", organisations, ["GET"]),
        ("/organisations/<id:organisation_id>/publishing", set_publishing, ["POST"]),
    ]
    for rule, view, methods in rules:
        blueprint.add_url_rule(rule, view_func=view, methods=methods)
    blueprint.context_processor(lambda: {"local": local})
