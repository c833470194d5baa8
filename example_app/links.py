"""Links from the admin to the feed items a change moved, so you can watch the feed follow."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func
from sqlalchemy import select

from .models import AnySession
from .models import FacilityUse
from .models import Organisation
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot

#: The feed each model is published in.
FEED_NAMES: dict[type, str] = {
    SessionSeries: "session-series",
    ScheduledSession: "scheduled-sessions",
    FacilityUse: "facility-uses",
    Slot: "facility-use-slots",
}


@dataclass(frozen=True)
class FeedLink:
    """Where to see an item in its feed."""

    feed: str
    item_id: int
    url: str

    @property
    def label(self) -> str:
        return f"{self.feed} item {self.item_id}"


def feed_link(feed: str, modified: int, item_id: int) -> FeedLink:
    """The feed page that starts with the item ``(modified, item_id)``.

    RPDE pages hold the items after the cursor; ``afterId`` one below the item's own
    (integer) id puts the item first on the page.
    """
    url = url_for(
        "rpde.feed_page", name=feed, afterTimestamp=modified, afterId=item_id - 1, _external=True
    )
    return FeedLink(feed, item_id, url)


def link_to(item: SessionSeries | ScheduledSession | FacilityUse | Slot) -> FeedLink:
    """The feed page that starts with ``item``, as the database holds it now."""
    return feed_link(FEED_NAMES[type(item)], item.modified, item.id)


def newest_stamps(session: AnySession) -> dict[type, int]:
    """The highest ``modified`` of each feed table: take it before a change, to find what
    the change moved."""
    return {
        model: session.scalar(select(func.max(model.modified))) or 0  # type: ignore[attr-defined]
        for model in FEED_NAMES
    }


def links_for_organisation(
    session: AnySession, organisation: Organisation, since: dict[type, int]
) -> list[FeedLink]:
    """For each feed, where the organisation's items begin after they all moved.

    ``since`` is :func:`newest_stamps` from before the change; the items the change moved
    are those of the organisation stamped above it.
    """
    owned = {
        SessionSeries: SessionSeries.organisation_id == organisation.id,
        ScheduledSession: ScheduledSession.series.has(
            SessionSeries.organisation_id == organisation.id
        ),
        FacilityUse: FacilityUse.organisation_id == organisation.id,
        Slot: Slot.facility_use.has(FacilityUse.organisation_id == organisation.id),
    }
    links = []
    for model, criterion in owned.items():
        modified, id_ = model.modified, model.id  # type: ignore[attr-defined]
        first = session.execute(
            select(modified, id_)
            .where(criterion, modified > since.get(model, 0))
            .order_by(modified, id_)
            .limit(1)
        ).first()
        if first is not None:
            links.append(feed_link(FEED_NAMES[model], first.modified, first.id))
    return links
