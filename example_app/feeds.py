"""The four OpenActive feeds the leisure centre publishes, and who may appear in them."""

from __future__ import annotations

from sqlalchemy import select

from rpde_publisher import RPDE
from rpde_publisher.openactive.models import item_schema

from .models import FacilityUse
from .models import Organisation
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot
from .organisations import OrganisationSites
from .schemas import facility_use
from .schemas import scheduled_session
from .schemas import session_series
from .schemas import slot

rpde = RPDE()

# Step 3 of publishing, the opt-out: items of an organisation that does not publish open
# data are published as tombstones. Series and facilities embed the organisation, so
# flipping its flag moves every one of its items at once. The criterion names the
# publishing organisations with `IN (SELECT ...)`, which the database evaluates once per
# page; a correlated `.has()` may be evaluated once per item (see docs/performance.md).
_publishes = Organisation.publishes_open_data.is_(True)
_publishing_organisations = select(Organisation.id).where(_publishes)

# Each organisation also gets its own dataset site and feeds
# (/openactive/organisations/<id>/feeds/<name>): series and facilities name their
# organisation; sessions and slots reach it through their parent. `key` is a bound
# parameter, so one statement serves every organisation.
rpde.dataset_provider(OrganisationSites())

rpde.feed(
    SessionSeries,
    kind="SessionSeries",
    schema=item_schema(session_series),
    embeds=[
        "organisation",
        "place.opening_hours",
        "place.amenities",
        "activity",
        "leader",
        "offers",
    ],
    publish_when=lambda: SessionSeries.organisation_id.in_(_publishing_organisations),
    organisation=SessionSeries.organisation_id,
)
# Sessions and slots follow their parent (`parent=`): while a series or facility is not
# a live item of its feed (deleted, or its organisation opted out), its sessions or
# slots are tombstones too, so no consumer is left holding a child that points at
# nothing (which OpenActive's registration refuses).
rpde.feed(
    ScheduledSession,
    kind="ScheduledSession",
    schema=item_schema(scheduled_session),
    parent="series",
    # A session shows its series' leader and offers (prices) too.
    embeds=["series.leader", "series.offers"],
    expires=ScheduledSession.end,
    organisation=lambda key: ScheduledSession.series_id.in_(
        select(SessionSeries.id).where(SessionSeries.organisation_id == key)
    ),
)
rpde.feed(
    FacilityUse,
    kind="FacilityUse",
    schema=item_schema(facility_use),
    embeds=["organisation", "place.opening_hours", "place.amenities", "facility_type"],
    publish_when=lambda: FacilityUse.organisation_id.in_(_publishing_organisations),
    organisation=FacilityUse.organisation_id,
)
# Every booking changes a slot: its data is rendered by the first read after the
# change rather than by each booking (see docs/change-tracking.md).
rpde.feed(
    Slot,
    kind="FacilityUse/Slot",
    schema=item_schema(slot),
    render_at="read",
    parent="facility_use",
    expires=Slot.end,
    organisation=lambda key: Slot.facility_use_id.in_(
        select(FacilityUse.id).where(FacilityUse.organisation_id == key)
    ),
)
