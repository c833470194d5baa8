"""The Node validator's data-quality rules that fail an item, as plain functions of one object."""

from __future__ import annotations

import html
import re
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping

__all__ = ["quality_findings"]

#: One finding: the path below the object (() for the object itself), its rule and message.
Finding = tuple[tuple["str | int", ...], str, str]
#: A field's value, inherited as the walk inherits it.
Lookup = Callable[[str], object]
#: One rule for the objects of some types: (type, the object, the field it is the value
#: of, lookup) to its findings.
Rule = Callable[[str, Mapping[str, t.Any], "str | None", Lookup], Iterator[Finding]]
_OLD_OPENACTIVE = re.compile(r"^https?://(www.)?openactive\.io")
_TAG = re.compile(r"<[^>]*>")
_ZERO_DURATION = re.compile(r"^P(T?0+(\.0+)?[YMWDHS])+$|^PT?0[YMWDHS]?$")
#: The types whose startDate/endDate/duration the Node validator's logic rules read.
_EVENT_TYPES = frozenset(
    {
        "Event",
        "CourseInstance",
        "EventSeries",
        "HeadlineEvent",
        "ScheduledSession",
        "SessionSeries",
        "Schedule",
        "Slot",
    }
)


_BOOKABLE_TYPES = frozenset(
    {"Event", "CourseInstance", "EventSeries", "HeadlineEvent", "ScheduledSession", "SessionSeries"}
)
_PREPAID = ("https://openactive.io/Required", "https://openactive.io/Optional")
_PREPAYMENT_CHANNELS = frozenset(
    f"https://openactive.io/{c}"
    for c in ("OpenBookingPrepayment", "TelephonePrepayment", "OnlinePrepayment")
)


def _is_html(text: str) -> bool:
    """As the Node validator's no-html rule: stripping tags and entities changes the text."""
    if "<" not in text and "&" not in text:
        return False  # neither a tag nor an entity: nothing to strip
    return html.unescape(_TAG.sub("", text)).strip() != text.strip()


def quality_findings(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    """The failures of ``data`` (an object of type ``model``, the value of field ``context``)
    under the data-quality rules; ``lookup`` gives a field's value with inheritance."""
    for key, value in data.items():
        if (
            isinstance(value, str)
            and ("<" in value or "&" in value)
            and key != "beta:formattedDescription"
            and _is_html(value)
        ):
            yield (key,), "no_html", f"{key!r} must not contain HTML; strip it before publishing."
    if "@context" in data:
        yield from _old_context(data["@context"])
    for rule in _RULES.get(model, ()):
        yield from rule(model, data, context, lookup)
    if "price" in data and "priceCurrency" not in data and data["price"] != 0:
        yield (), "missing_required_field", "An Offer with a non-zero price needs a priceCurrency."


def _old_context(contexts: object) -> Iterator[Finding]:
    for url in contexts if isinstance(contexts, list) else [contexts]:
        if (
            isinstance(url, str)
            and _OLD_OPENACTIVE.match(url)
            and not url.startswith("https://openactive.io")
        ):
            yield ("@context",), "invalid_format", f"{url} should be https://openactive.io/."


def _event_dates(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    start, end = lookup("startDate"), lookup("endDate")
    if isinstance(start, str) and isinstance(end, str):
        if start[:19] > end[:19]:
            # Compared as text: both are ISO 8601; offsets are rarely mixed in one item.
            yield ("startDate",), "start_date_after_end_date", "startDate is after endDate."
        if lookup("duration") is None:
            yield (
                ("duration",),
                "dates_must_have_duration",
                ("An event with a startDate and an endDate needs a duration."),
            )
    duration = data.get("duration")
    if isinstance(duration, str) and _ZERO_DURATION.match(duration):
        yield ("duration",), "no_zero_duration", "duration must not be zero."


def _session_has_series(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if context != "subEvent" and "superEvent" not in data:
        yield (), "model_must_be_child", "A ScheduledSession needs a superEvent (its series)."


def _series_has_sessions(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if context != "superEvent" and not data.get("eventSchedule") and not data.get("subEvent"):
        yield (), "missing_required_field", f"A {model} needs a subEvent or an eventSchedule."


def _series_schedules_sessions(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    schedules = data.get("eventSchedule")
    for index, schedule in enumerate(schedules if isinstance(schedules, list) else ()):
        if (
            isinstance(schedule, dict)
            and schedule.get("@type") == "Schedule"
            and schedule.get("scheduledEventType") != "ScheduledSession"
        ):
            # The Node validator writes this path in this order.
            yield (
                ("eventSchedule", "scheduledEventType", index),
                ("field_not_in_defined_values"),
                "A SessionSeries's Schedule has scheduledEventType ScheduledSession.",
            )


def _age_range_has_bounds(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if "ageRange" in data:
        age = data["ageRange"]
        if not isinstance(age, dict) or ("minValue" not in age and "maxValue" not in age):
            yield (
                ("ageRange",),
                "missing_required_field",
                "ageRange needs a minValue or a maxValue.",
            )


def _booking_has_offer(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if data.get("isAccessibleWithoutBooking") is False:
        offers = lookup("offers")
        if not isinstance(offers, list) or not any(
            isinstance(o, dict)
            and (isinstance(o.get("@id", o.get("id")), str) or isinstance(o.get("url"), str))
            for o in offers
        ):
            yield (
                (),
                "event_requiring_booking_must_have_valid_offer",
                ("An event that needs booking needs an offer with an @id or a url."),
            )


def _prepayment_has_channel(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if "availableChannel" in data and data.get("prepayment") in _PREPAID:
        channels = data["availableChannel"]
        if not isinstance(channels, list) or not _PREPAYMENT_CHANNELS & set(map(str, channels)):
            yield (
                ("availableChannel",),
                "field_not_in_defined_values",
                ("An offer taking prepayment needs a channel that takes it."),
            )


def _thumbnail_has_none(
    model: str, data: Mapping[str, t.Any], context: str | None, lookup: Lookup
) -> Iterator[Finding]:
    if context == "thumbnail" and "thumbnail" in data:
        yield ("thumbnail",), "thumbnail_has_no_thumbnail", "A thumbnail has no thumbnail."


def _rules_by_type() -> dict[str, tuple[Rule, ...]]:
    """Each type's rules, in the order the findings are reported."""
    found: dict[str, list[Rule]] = {}
    for rule, types in (
        (_event_dates, _EVENT_TYPES),
        (_session_has_series, {"ScheduledSession"}),
        (_series_has_sessions, {"SessionSeries", "CourseInstance"}),
        (_series_schedules_sessions, {"SessionSeries"}),
        (_age_range_has_bounds, {"Event"}),
        (_booking_has_offer, _BOOKABLE_TYPES),
        (_prepayment_has_channel, {"Offer"}),
        (_thumbnail_has_none, {"ImageObject"}),
    ):
        for name in types:
            found.setdefault(name, []).append(rule)
    return {name: tuple(rules) for name, rules in found.items()}


_RULES = _rules_by_type()
