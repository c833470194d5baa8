"""Per-feed quality figures: what OpenActive's ecosystem dashboard scores a feed by."""

from __future__ import annotations

import typing as t
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import UTC
from itertools import islice

from sqlalchemy.engine import Connection

from .checking import Checker
from .items import BATCH_SIZE
from .items import iter_items
from .items import LiveItem
from .items import Progress
from .parents import parent_feeds
from .parents import resolve_parents

if t.TYPE_CHECKING:
    from ..feed import Feed

__all__ = ["COMPLETENESS", "FIGURES_BY_KIND", "feed_figures", "has_figure"]

#: The completeness figures, each named for what it measures.
COMPLETENESS = ("location", "start_date", "end_date", "activities", "facilities")

_EVENT = frozenset({"location", "start_date", "end_date", "activities"})
_FACILITY = frozenset({"location", "facilities"})
_SLOT = frozenset({"location", "start_date", "end_date", "facilities"})

#: Which completeness figures each RPDE kind's items (or their parents) can carry, from
#: OpenActive's models: the others are ``null`` for that kind. FacilityUse's ``activity``
#: is deprecated in favour of ``facilityType``, so facility kinds score facilities only;
#: an OnDemandEvent has no place or date; a Course has neither place nor dates.
FIGURES_BY_KIND: Mapping[str, frozenset[str]] = {
    "SessionSeries": _EVENT,
    "SessionSeries.ScheduledSession": _EVENT,
    "ScheduledSession": _EVENT,
    "ScheduledSession.SessionSeries": _EVENT,
    "Event": _EVENT,
    "EventSeries": _EVENT,
    "HeadlineEvent": _EVENT,
    "CourseInstance": _EVENT,
    "CourseInstance.Event": _EVENT,
    "Course": frozenset({"activities"}),
    "OnDemandEvent": frozenset({"activities"}),
    "FacilityUse": _FACILITY,
    "IndividualFacilityUse": _FACILITY,
    "Slot": _SLOT,
    "FacilityUse/Slot": _SLOT,
    "IndividualFacilityUse/Slot": _SLOT,
}


def has_figure(figure: str, data: Mapping[str, t.Any]) -> bool:
    """Whether ``data`` carries what ``figure`` measures."""
    if figure == "location":
        location = data.get("location")
        if not isinstance(location, Mapping):
            return False
        geo = location.get("geo")
        if (
            isinstance(geo, Mapping)
            and _present(geo.get("latitude"))
            and _present(geo.get("longitude"))
        ):
            return True
        address = location.get("address")
        return isinstance(address, Mapping) and _present(address.get("postalCode"))
    key = {
        "start_date": "startDate",
        "end_date": "endDate",
        "activities": "activity",
        "facilities": "facilityType",
    }[figure]
    return _present(data.get(key))


def feed_figures(
    connection: Connection,
    feed: Feed,
    *,
    feeds: Sequence[Feed],
    feed_url: str,
    checker: Checker,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, t.Any]:
    """The figures of ``feed`` as a JSON object, streaming its live items once.

    :param feeds: Every registered feed, where parents named by URL are looked up.
    :param feed_url: The feed's absolute URL, as the dataset site lists it.
    :param checker: Checks each item; its failures and warnings give ``status``.
    """
    now = now or datetime.now(UTC)
    measured = FIGURES_BY_KIND.get(feed.kind, _EVENT)
    candidates = parent_feeds(feed, feeds)
    errors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    present: Counter[str] = Counter()
    total = future = 0
    items = iter_items(connection, feed, progress=progress)
    while batch := list(islice(items, BATCH_SIZE)):
        # One batch's parents at a time: memory stays bounded by the batch.
        parents = resolve_parents(connection, batch, candidates) if candidates else {}
        for item in batch:
            total += 1
            future += _is_future(item.data.get("startDate"), now)
            for figure in measured:
                if _carried(figure, item, parents):
                    present[figure] += 1
            for message in checker(item.data):
                if message.severity == "failure":
                    errors[message.rule] += 1
                elif message.severity == "warning":
                    warnings[message.rule] += 1
    figures: dict[str, t.Any] = {
        "feed": feed.name,
        "feed_url": feed_url,
        "feed_type": feed.kind,
        "status": "ERROR" if errors else "WARNING" if warnings else "OK",
        "items": total,
        "errors": dict(sorted(errors.items())),
        "warnings": dict(sorted(warnings.items())),
    }
    for figure in COMPLETENESS:
        share = present[figure] / total if total else 0.0
        figures[f"{figure}_completeness"] = round(share, 4) if figure in measured else None
    figures["num_future_opportunity_items"] = future
    return figures


def _carried(figure: str, item: LiveItem, parents: Mapping[int, Mapping[str, t.Any]]) -> bool:
    if has_figure(figure, item.data):
        return True
    parent = parents.get(item.index)
    return parent is not None and has_figure(figure, parent)


def _present(value: t.Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _is_future(value: t.Any, now: datetime) -> bool:
    """Whether an ISO 8601 ``startDate`` is after ``now`` (no offset: read as UTC)."""
    if not isinstance(value, str):
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return False
        moment = datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment > now
