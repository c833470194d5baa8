"""OpenActive feed types: the default path, name and type URL for each RPDE kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FeedType", "default_feed_name", "feed_type_for_kind"]


@dataclass(frozen=True)
class FeedType:
    """How OpenActive's tools name one type of feed.

    The values follow ``versions/2.x/meta.json`` of OpenActive's data models, which
    the dataset-site libraries and the test suite use.
    """

    #: Unique identifier of the feed type, e.g. ``"FacilityUseSlot"``.
    identifier: str
    #: Display name used in a dataset site's ``distribution``.
    name: str
    #: Type URL used as ``additionalType``.
    additional_type: str
    #: Default URL path segment of the feed.
    path: str
    #: Theme used to describe the dataset ("Sessions", "Facilities", ...).
    theme: str | None


_OA = "https://openactive.io/"
_SCHEMA = "https://schema.org/"

_FEED_TYPES = (
    FeedType("SessionSeries", "SessionSeries", _OA + "SessionSeries", "session-series", "Sessions"),
    FeedType(
        "ScheduledSession",
        "ScheduledSession",
        _OA + "ScheduledSession",
        "scheduled-sessions",
        "Sessions",
    ),
    FeedType("FacilityUse", "FacilityUse", _OA + "FacilityUse", "facility-uses", "Facilities"),
    FeedType(
        "IndividualFacilityUse",
        "IndividualFacilityUse",
        _OA + "IndividualFacilityUse",
        "individual-facility-uses",
        "Facilities",
    ),
    FeedType(
        "FacilityUseSlot", "Slot for FacilityUse", _OA + "Slot", "facility-use-slots", "Facilities"
    ),
    FeedType(
        "IndividualFacilityUseSlot",
        "Slot for IndividualFacilityUse",
        _OA + "Slot",
        "individual-facility-use-slots",
        "Facilities",
    ),
    FeedType("Course", "Course", _SCHEMA + "Course", "courses", "Courses"),
    FeedType(
        "CourseInstance",
        "CourseInstance",
        _SCHEMA + "CourseInstance",
        "course-instances",
        "Courses",
    ),
    FeedType(
        "HeadlineEvent",
        "HeadlineEvent",
        _OA + "HeadlineEvent",
        "headline-events",
        "Headline Events",
    ),
    FeedType("Event", "Event", _SCHEMA + "Event", "events", "Events"),
    FeedType("EventSeries", "EventSeries", _SCHEMA + "EventSeries", "event-series", None),
    FeedType(
        "OnDemandEvent",
        "OnDemandEvent",
        _SCHEMA + "OnDemandEvent",
        "on-demand-events",
        "On Demand Events",
    ),
)

_BY_IDENTIFIER = {feed_type.identifier: feed_type for feed_type in _FEED_TYPES}

# RPDE `kind` values (OpenActive.NET's RpdeKind) mapped to the feed type they publish.
_KIND_TO_IDENTIFIER = {
    "SessionSeries": "SessionSeries",
    "SessionSeries.ScheduledSession": "SessionSeries",
    "ScheduledSession": "ScheduledSession",
    "ScheduledSession.SessionSeries": "ScheduledSession",
    "FacilityUse": "FacilityUse",
    "IndividualFacilityUse": "IndividualFacilityUse",
    "FacilityUse/Slot": "FacilityUseSlot",
    "Slot": "FacilityUseSlot",
    "IndividualFacilityUse/Slot": "IndividualFacilityUseSlot",
    "Course": "Course",
    "CourseInstance": "CourseInstance",
    "CourseInstance.Event": "CourseInstance",
    "HeadlineEvent": "HeadlineEvent",
    "Event": "Event",
    "EventSeries": "EventSeries",
    "OnDemandEvent": "OnDemandEvent",
}


def feed_type_for_kind(kind: str) -> FeedType | None:
    """The OpenActive feed type that publishes items of ``kind``, if it is a known kind."""
    identifier = _KIND_TO_IDENTIFIER.get(kind)
    return _BY_IDENTIFIER[identifier] if identifier else None


def default_feed_name(kind: str) -> str:
    """OpenActive's default feed path for ``kind``.

    ``SessionSeries`` gives ``session-series``, ``FacilityUse/Slot`` gives
    ``facility-use-slots``; an unknown kind gives its kebab-case form.
    """
    feed_type = feed_type_for_kind(kind)
    if feed_type is not None:
        return feed_type.path
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", kind)
    return re.sub(r"[^A-Za-z0-9]+", "-", words).strip("-").lower()
