"""The four OpenActive feeds the leisure centre publishes, and who may appear in them."""

from __future__ import annotations

from rpde_publisher import RPDE

from .models import FacilityUse
from .models import Organisation
from .models import ScheduledSession
from .models import SessionSeries
from .models import Slot
from .schemas import FacilityUseSchema
from .schemas import ScheduledSessionSchema
from .schemas import SessionSeriesSchema
from .schemas import SlotSchema

rpde = RPDE()

# Step 3 of publishing, the opt-out: items of an organisation that does not publish open
# data are published as tombstones. Each feed embeds the organisation, so flipping its
# flag moves every one of its items at once.
_publishes = Organisation.publishes_open_data.is_(True)

rpde.feed(
    SessionSeries,
    kind="SessionSeries",
    schema=SessionSeriesSchema(),
    embeds=["organisation", "place", "activity", "offers"],
    publish_when=lambda: SessionSeries.organisation.has(_publishes),
)
rpde.feed(
    ScheduledSession,
    kind="ScheduledSession",
    schema=ScheduledSessionSchema(),
    embeds=["series.organisation"],
    publish_when=lambda: ScheduledSession.series.has(SessionSeries.organisation.has(_publishes)),
    expires=ScheduledSession.end,
)
rpde.feed(
    FacilityUse,
    kind="FacilityUse",
    schema=FacilityUseSchema(),
    embeds=["organisation", "place", "activity"],
    publish_when=lambda: FacilityUse.organisation.has(_publishes),
)
rpde.feed(
    Slot,
    kind="FacilityUse/Slot",
    schema=SlotSchema(),
    embeds=["facility_use.organisation"],
    publish_when=lambda: Slot.facility_use.has(FacilityUse.organisation.has(_publishes)),
    expires=Slot.end,
)
