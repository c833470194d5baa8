"""Whether the concepts an item names (activities, facility types) are in OpenActive's lists."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

from .vocabulary import ConceptList

__all__ = ["activity_findings", "facility_type_findings"]

#: (array index, severity, rule, message)
Finding = tuple[int, t.Literal["failure", "warning"], str, str]
ACTIVITY_LIST = "https://openactive.io/activity-list"
FACILITY_TYPES = "https://openactive.io/facility-types"
#: Old spellings of the activity list's URL, which the Node validator asks to upgrade.
_UPGRADE = frozenset(
    f"{scheme}://{www}openactive.io/activity-list{tail}"
    for scheme in ("http", "https")
    for www in ("", "www.")
    for tail in ("", "/", "/activity-list.jsonld")
) - {ACTIVITY_LIST}


def _concepts(value: object) -> Iterator[tuple[int, dict[str, t.Any]]]:
    if isinstance(value, list):
        for index, concept in enumerate(value):
            if isinstance(concept, dict):
                yield index, concept


def activity_findings(value: object, activities: ConceptList | None) -> Iterator[Finding]:
    """The Node validator's activity-in-activity-list rule: the official scheme, then a
    match by ``@id`` or (case-insensitively) by ``prefLabel``."""
    for index, concept in _concepts(value):
        scheme = concept.get("inScheme")
        if isinstance(scheme, str) and scheme in _UPGRADE:
            yield (
                index,
                "failure",
                "field_not_in_defined_values",
                (f"inScheme should be {ACTIVITY_LIST}, not {scheme}."),
            )
        elif scheme != ACTIVITY_LIST:
            yield (
                index,
                "failure",
                "use_official_activity_list",
                (f"Activities must come from the official list, with inScheme {ACTIVITY_LIST}."),
            )
            continue  # another list's concepts are not this list's to judge
        if activities is None:
            continue
        key = concept.get("@id", concept.get("id"))
        label = concept.get("prefLabel")
        if isinstance(key, str) and key in activities.labels:
            correct = activities.labels[key]
            if isinstance(label, str) and label.lower() != correct.lower():
                yield (
                    index,
                    "warning",
                    "activity_not_in_activity_list",
                    (f"Activity {key} is labelled {correct!r} in the list, not {label!r}."),
                )
            continue
        if isinstance(label, str) and label.lower() in activities.by_label:
            if key is not None:
                yield (
                    index,
                    "failure",
                    "activity_not_in_activity_list",
                    (
                        f"Activity {label!r} is in the list, but its @id is "
                        f"{activities.by_label[label.lower()]}, not {key}."
                    ),
                )
            continue
        yield (
            index,
            "failure",
            "activity_not_in_activity_list",
            (f"Activity {key or label!r} is not in the OpenActive activity list."),
        )


def facility_type_findings(value: object, types: ConceptList | None) -> Iterator[Finding]:
    """Facility types of the official scheme must be in its list (the Node validator does
    not check these; ours warns)."""
    if types is None:
        return
    for index, concept in _concepts(value):
        if str(concept.get("inScheme", FACILITY_TYPES)).rstrip("/") != FACILITY_TYPES:
            continue
        key = concept.get("@id", concept.get("id"))
        if not isinstance(key, str) or key not in types.labels:
            yield (
                index,
                "warning",
                "facility_type_not_in_list",
                (f"Facility type {key!r} is not in the OpenActive facility types."),
            )
