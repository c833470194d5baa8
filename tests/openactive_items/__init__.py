"""The parity corpus: good items (the models' examples) and broken ones, per Node failure rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "node_modules" / "@openactive" / "data-models" / "versions" / "2.x" / "examples"
SESSION = "scheduledsession_example_1.json"
EVENT = "event_example_1.json"
#: Every example of the pinned data models (all pass the Node validator in RPDE-feed mode).
GOOD = sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "example_list.json")


def example(name: str) -> dict[str, object]:
    """The first item's data of an example (they are RPDE pages or bare items)."""
    document = json.loads((EXAMPLES / name).read_text())
    if "items" in document:
        document = document["items"][0]["data"]
    return document  # type: ignore[no-any-return]


def _broken(
    name: str, change: object, base: str = "sessionseries_example_1.json"
) -> dict[str, object]:
    data = copy.deepcopy(example(base))
    change(data)  # type: ignore[operator]
    return {"name": name, "data": data}


def _set(path: list[str | int], value: object):  # type: ignore[no-untyped-def]
    def change(data):  # type: ignore[no-untyped-def]
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


def _delete(path: list[str | int]):  # type: ignore[no-untyped-def]
    def change(data):  # type: ignore[no-untyped-def]
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


BROKEN = [
    _broken("missing_required_field", _delete(["name"])),
    _broken("missing_required_nested", _delete(["location", "name"])),
    _broken("field_is_empty", _set(["description"], "")),
    _broken("field_is_empty_array", _set(["image"], [])),
    _broken("invalid_type_number", _set(["location", "geo", "latitude"], "51.5")),
    _broken("invalid_format_datetime", _set(["startDate"], "2018-01-27T12:00:00")),
    _broken("invalid_format_duration", _set(["duration"], "1 hour")),
    _broken("invalid_type_url", _set(["url"], "not a url")),
    _broken("field_not_in_defined_values", _set(["eventStatus"], "https://schema.org/Happening")),
    _broken("field_not_in_spec", _set(["colour"], "red")),
    _broken("field_not_allowed_in_spec", _set(["remainingAttendeeCapacity"], 3)),
    _broken("currency_code", _set(["offers", 0, "priceCurrency"], "pounds")),
    _broken(
        "activity_not_in_activity_list",
        _set(["activity", 0, "@id"], "https://openactive.io/activity-list#nope"),
    ),
    _broken("context_not_on_root", _set(["location", "@context"], "https://openactive.io/")),
    _broken("latitude_out_of_range", _set(["location", "geo", "latitude"], 123.4)),
    _broken("price_as_string", _set(["offers", 0, "price"], "7.50")),
    _broken("end_before_start", _set(["endDate"], "2000-01-01T00:00:00Z"), SESSION),
    _broken("no_zero_duration", _set(["duration"], "PT0M"), SESSION),
    _broken("currency_if_non_zero_price", _delete(["offers", 0, "priceCurrency"])),
    _broken("no_html", _set(["description"], "<p>Hello</p>")),
    _broken("below_min_value_inclusive", _set(["remainingAttendeeCapacity"], -1), SESSION),
    _broken("invalid_id", _set(["@id"], "not-a-url")),
    _broken("shall_not_include", _set(["eventSchedule"], [{"@type": "Schedule"}]), EVENT),
    _broken("country_code", _set(["location", "address", "addressCountry"], "England")),
    _broken("nested_type_wrong", _set(["location", "@type"], "Banana")),
    _broken("root_type_missing", _delete(["@type"]), SESSION),
    _broken("context_missing", _delete(["@context"])),
    _broken("time_format", _set(["eventSchedule", 0, "startTime"], "7pm")),
    _broken("enum_value", _set(["genderRestriction"], "https://openactive.io/Men")),
    _broken("boolean", _set(["isCoached"], "yes")),
    _broken("integer", _set(["maximumAttendeeCapacity"], 3.5)),
    _broken("date_format", _set(["eventSchedule", 0, "startDate"], "2018-13-45")),
    _broken("object_as_string", _set(["organizer"], "Bob")),
    _broken("array_as_object", lambda data: data.__setitem__("offers", data["offers"][0])),
    _broken("activity_without_in_scheme", _delete(["activity", 0, "inScheme"])),
    _broken(
        "activity_old_scheme_url",
        _set(["activity", 0, "inScheme"], "https://openactive.io/activity-list/"),
    ),
    _broken(
        "activity_label_with_wrong_id",
        _set(["activity", 0, "@id"], "https://openactive.io/activity-list#1"),
    ),
    _broken(
        "activity_unknown_label",
        lambda data: data["activity"][0].update(
            {"@id": "https://openactive.io/activity-list#x", "prefLabel": "Quidditch"}
        ),
    ),
    _broken("organizer_without_id", _delete(["organizer", "@id"])),
    _broken(
        "online_event_with_location",
        _set(["eventAttendanceMode"], "https://schema.org/OnlineEventAttendanceMode"),
    ),
    _broken("sub_event_without_start", _delete(["subEvent", 0, "startDate"])),
    _broken(
        "opening_hours_without_opens",
        _delete(["location", "openingHoursSpecification", 0, "opens"]),
    ),
    _broken("root_without_id", _delete(["@id"])),
    _broken("offer_without_type", _delete(["offers", 0, "@type"])),
    _broken("dates_must_have_duration", _delete(["duration"]), EVENT),
    _broken("scheduled_session_must_be_sub_event", _delete(["superEvent"]), SESSION),
    _broken(
        "session_has_sub_event_or_schedule",
        lambda data: [data.pop(k, None) for k in ("subEvent", "eventSchedule")],
    ),
    _broken(
        "session_series_schedule_type", _set(["eventSchedule", 0, "scheduledEventType"], "Slot")
    ),
    _broken("openactive_urls_correct", _set(["@context"], ["http://openactive.io/"])),
    _broken("age_range_min_or_max", _set(["ageRange"], {"@type": "QuantitativeValue"}), EVENT),
    _broken("needs_booking_valid_offer", _set(["isAccessibleWithoutBooking"], False), EVENT),
    _broken(
        "thumbnail_has_no_thumbnail",
        lambda data: data["image"][0].update(
            {
                "thumbnail": [
                    {
                        "@type": "ImageObject",
                        "url": "https://example.com/t.jpg",
                        "thumbnail": [{"@type": "ImageObject", "url": "https://example.com/u.jpg"}],
                    }
                ]
            }
        ),
    ),
    _broken(
        "uri_template", _set(["eventSchedule", 0, "idTemplate"], "https://example.com/no-variable")
    ),
]

#: Broken in ways Node also reports as properties missing from schema.org, which ours only
#: warns about (it has no schema.org vocabulary): compared on the rule's own path only.
BROKEN_OFFLINE = [
    _broken(
        "available_channel_for_prepayment",
        lambda data: data["offers"][0].update(
            {
                "prepayment": "https://openactive.io/Required",
                "availableChannel": ["https://openactive.io/InPersonAtVenue"],
            }
        ),
    ),
]
