"""Across a dataset site's feeds, as the Test Suite's broker reads them: parents,
children, orphans, and what it needs of every opportunity it keeps."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from ..harvest import LocalCopy
from .checks import examples
from .findings import Finding
from .site_rules import site_finding

__all__ = ["HARVESTED", "JSON", "OpportunityCount", "check_opportunities", "live_items"]

#: The feed types the Test Suite harvests, and whether each is a parent feed (its
#: broker's ``DATASET_ADDITIONAL_TYPE_TO_IS_PARENT_FEED``).
HARVESTED: dict[str, bool] = {
    "https://openactive.io/SessionSeries": True,
    "https://openactive.io/FacilityUse": True,
    "https://openactive.io/IndividualFacilityUse": True,
    "https://openactive.io/ScheduledSession": False,
    "https://openactive.io/Slot": False,
    "https://schema.org/Event": False,
    "https://schema.org/OnDemandEvent": False,
}

JSON = dict[str, t.Any]


@dataclass
class OpportunityCount:
    """What the broker would hold once every feed is harvested to its end."""

    #: Live items of the parent feeds (an inverted IndividualFacilityUse counts once).
    parents: int = 0
    #: Live children that name a parent by its ``@id``.
    children: int = 0
    #: Those whose parent is no live item of a parent feed.
    orphans: int = 0
    #: Everything the broker keeps as an opportunity: parents, matched children and
    #: children that name no parent (its "totalOpportunities").
    opportunities: int = 0
    orphan_examples: list[str] = field(default_factory=list)


def check_opportunities(
    parent_feeds: Mapping[str, LocalCopy], child_feeds: Mapping[str, LocalCopy]
) -> tuple[list[Finding], OpportunityCount]:
    """The Test Suite's checks across feeds, on the live items harvested from each.

    :param parent_feeds: By feed URL, the copies of the parent feeds (series, facility
        uses).
    :param child_feeds: By feed URL, the copies of the child feeds (sessions, slots,
        events).
    """
    findings: list[Finding] = []
    count = OpportunityCount()
    parents: dict[str, JSON] = {}
    children: list[tuple[str, JSON]] = []
    no_id: dict[str, list[t.Any]] = {}
    for url, copy in parent_feeds.items():
        for item in copy:
            data = item.data or {}
            for parent in _inverted(data):
                parent_id = _id(parent)
                if parent_id is None:
                    no_id.setdefault(url, []).append(item.id)
                    continue
                parents[parent_id] = parent
                # A series carrying its sessions as subEvent: the broker makes each a child.
                for sub_event in parent.get("subEvent") or ():
                    if isinstance(sub_event, dict) and _id(sub_event) and _type(sub_event):
                        children.append((url, {**sub_event, "superEvent": parent_id}))
    for url, copy in child_feeds.items():
        for item in copy:
            data = item.data or {}
            if _id(data) is None:
                no_id.setdefault(url, []).append(item.id)
                continue
            children.append((url, data))
    for url, ids in no_id.items():
        findings.append(
            site_finding(
                "item-id",
                f"{len(ids)} live item(s) have no @id in their data (ids {examples(ids)}); the"
                " Test Suite stops with a fatal error at the first.",
                url,
            )
        )
    count.parents = len(parents)
    shapes: dict[str, list[str]] = {}
    orphans: dict[str, list[str]] = {}
    standalone = 0
    for url, data in children:
        parent_id = _parent_reference(data)
        if parent_id is None:
            standalone += 1
            merged = data
        else:
            count.children += 1
            found = parents.get(parent_id)
            if found is None:
                orphans.setdefault(url, []).append(t.cast(str, _id(data)))
                continue
            merged = _merged(data, found)
        problem = _shape_problem(merged)
        if problem is not None:
            shapes.setdefault(problem, []).append(t.cast(str, _id(data)))
    count.orphans = sum(len(ids) for ids in orphans.values())
    count.opportunities = count.parents + count.children - count.orphans + standalone
    for url, ids in orphans.items():
        count.orphan_examples.extend(ids[: 5 - len(count.orphan_examples)])
        findings.append(
            site_finding(
                "orphans",
                f"{len(ids)} of {count.children} opportunities that reference a parent do not"
                f" have a matching parent item in a parent feed: {examples(ids)}. Each"
                " superEvent or facilityUse must be the @id of a live item of the parent feed"
                " (rpde.feed(..., parent=...) makes a child leave with its parent).",
                url,
            )
        )
    for problem, ids in shapes.items():
        findings.append(
            site_finding(
                "bookable-shape", f"{len(ids)} opportunities: {problem} ({examples(ids)})."
            )
        )
    if count.opportunities == 0:
        findings.append(
            site_finding(
                "opportunities",
                "Zero opportunities could be harvested from the opportunity feeds: the Test"
                " Suite fails a site with none.",
            )
        )
    return findings, count


def _inverted(data: JSON) -> list[JSON]:
    """A FacilityUse's ``individualFacilityUse``s stand for it, as the broker inverts them."""
    individual = data.get("individualFacilityUse")
    if isinstance(individual, list) and individual:
        return [
            {
                **unit,
                "aggregateFacilityUse": {
                    k: v for k, v in data.items() if k != "individualFacilityUse"
                },
            }
            for unit in individual
            if isinstance(unit, dict)
        ]
    return [data]


def _id(data: JSON) -> str | None:
    value = data.get("@id") or data.get("id")
    return value if isinstance(value, str) and value else None


def _type(data: t.Any) -> t.Any:
    return data.get("@type") or data.get("type") if isinstance(data, dict) else None


def _parent_reference(data: JSON) -> str | None:
    """The broker's rule: a child names its parent by a string ``superEvent`` or
    ``facilityUse`` (an embedded object is no reference)."""
    for key in ("superEvent", "facilityUse"):
        value = data.get(key)
        if isinstance(value, str):
            return value
    return None


def _merged(child: JSON, parent: JSON) -> JSON:
    key = "facilityUse" if _type(child) == "Slot" else "superEvent"
    return {**child, key: parent}


def _shape_problem(opportunity: JSON) -> str | None:
    """What the broker's detectOpportunityType and detectOpportunityBookingFlows would
    throw on (a fatal error in validate-feeds), if anything."""
    kind = _type(opportunity)
    super_event = opportunity.get("superEvent")
    facility = opportunity.get("facilityUse")
    if kind == "ScheduledSession" and _type(super_event) != "SessionSeries":
        return "a ScheduledSession's superEvent must be a SessionSeries"
    if kind == "Slot" and _type(facility) not in ("FacilityUse", "IndividualFacilityUse"):
        return "a Slot's facilityUse must be a FacilityUse or IndividualFacilityUse"
    if kind == "Event" and _type(super_event) not in (
        None,
        "HeadlineEvent",
        "CourseInstance",
        "EventSeries",
    ):
        return "an Event's superEvent must be a HeadlineEvent, CourseInstance or EventSeries"
    if kind not in ("ScheduledSession", "Slot", "CourseInstance", "HeadlineEvent",
                    "OnDemandEvent", "Event"):  # fmt: skip
        return f"{kind!r} is not a bookable opportunity type"
    offers = _js_or(opportunity.get("offers"), _offers_of(_js_or(super_event, facility)))
    if offers is None:
        return "no offers, in the opportunity or its superEvent/facilityUse"
    if not isinstance(offers, list):
        return "offers is not an array"
    return None


def _offers_of(parent: t.Any) -> t.Any:
    return parent.get("offers") if isinstance(parent, dict) else None


def _js_or(first: t.Any, second: t.Any) -> t.Any:
    """JavaScript's ``first || second``, as the broker writes it."""
    falsy = (
        first is None
        or first is False
        or first == ""
        or (isinstance(first, int | float) and not isinstance(first, bool) and first == 0)
    )
    return second if falsy else first


def live_items(copies: Iterable[LocalCopy]) -> int:
    return sum(len(copy) for copy in copies)
