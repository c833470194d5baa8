"""The parents a batch of child items names (``superEvent``, ``facilityUse``), looked up."""

from __future__ import annotations

import typing as t
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from .items import fetch_by_ids
from .items import LiveItem

if t.TYPE_CHECKING:
    from ..feed import Feed

__all__ = ["PARENT_PROPERTIES", "parent_feeds", "resolve_parents"]

#: The properties through which an OpenActive item names its parent.
PARENT_PROPERTIES = ("superEvent", "facilityUse")

# The kinds whose items may be the parent a child kind names, where no parent= says so.
_PARENT_KINDS = {
    "ScheduledSession": ("SessionSeries",),
    "ScheduledSession.SessionSeries": ("SessionSeries",),
    "Slot": ("FacilityUse", "IndividualFacilityUse"),
    "FacilityUse/Slot": ("FacilityUse",),
    "IndividualFacilityUse/Slot": ("IndividualFacilityUse",),
    "CourseInstance": ("Course", "EventSeries"),
    "Event": ("EventSeries", "HeadlineEvent"),
}


def parent_feeds(feed: Feed, feeds: Sequence[Feed]) -> list[Feed]:
    """The feeds that may publish ``feed``'s parents: its ``parent=`` feed, else the
    registered feeds of the kinds OpenActive's model puts above its kind."""
    link = feed.parent_link()
    if link is not None:
        return [link.feed]
    kinds = _PARENT_KINDS.get(feed.kind, ())
    return [other for other in feeds if other.kind in kinds and other is not feed]


def resolve_parents(
    connection: Connection, items: Sequence[LiveItem], candidates: Sequence[Feed]
) -> dict[int, dict[str, t.Any]]:
    """Each item's parent data by item index: embedded objects as they are, URLs and ids
    looked up in ``candidates`` with one query per candidate feed for the whole batch."""
    parents: dict[int, dict[str, t.Any]] = {}
    wanted: dict[int, str] = {}
    for item in items:
        reference = _reference(item.data)
        if isinstance(reference, dict):
            parents[item.index] = reference
        elif isinstance(reference, (str, int)):
            wanted[item.index] = _item_id(str(reference))
    for feed in candidates:
        if not wanted:
            break
        ids = {key: _typed(feed, raw) for key, raw in wanted.items()}
        found = fetch_by_ids(connection, feed, list({v for v in ids.values() if v is not None}))
        for key, typed in list(ids.items()):
            if typed is not None and typed in found:
                parents[key] = found[typed]
                del wanted[key]
    return parents


def _reference(data: dict[str, t.Any]) -> t.Any:
    for name in PARENT_PROPERTIES:
        if data.get(name) is not None:
            return data[name]
    return None


def _item_id(reference: str) -> str:
    """The item id a parent URL ends with (``.../session-series/42`` gives ``42``)."""
    path = urlsplit(reference).path if "/" in reference else reference
    return path.rstrip("/").rsplit("/", 1)[-1]


def _typed(feed: Feed, raw: str) -> t.Any:
    if not feed.id_is_integer:
        return raw
    try:
        return int(raw)
    except ValueError:
        return None
