"""The Node validator's data-quality rules that fail an item, as plain functions of one object."""

from __future__ import annotations

import html
import re
import typing as t
from collections.abc import Iterator
from collections.abc import Mapping

__all__ = ["quality_findings"]

#: One finding: the field it is at (None for the object itself), its rule and message.
Finding = tuple["str | None", str, str]
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


def _is_html(text: str) -> bool:
    """As the Node validator's no-html rule: stripping tags and entities changes the text."""
    if "<" not in text and "&" not in text:
        return False  # neither a tag nor an entity: nothing to strip
    return html.unescape(_TAG.sub("", text)).strip() != text.strip()


def quality_findings(model: str, data: Mapping[str, t.Any]) -> Iterator[Finding]:
    """The failures of ``data`` (an object of type ``model``) under the data-quality rules."""
    for key, value in data.items():
        if isinstance(value, str) and key != "beta:formattedDescription" and _is_html(value):
            yield key, "no_html", f"{key!r} must not contain HTML; strip it before publishing."
    if model in _EVENT_TYPES:
        start, end = data.get("startDate"), data.get("endDate")
        if isinstance(start, str) and isinstance(end, str) and start[:19] > end[:19]:
            # Compared as text: both are ISO 8601; offsets are rarely mixed in one item.
            yield "startDate", "start_date_after_end_date", "startDate is after endDate."
        duration = data.get("duration")
        if isinstance(duration, str) and _ZERO_DURATION.match(duration):
            yield "duration", "no_zero_duration", "duration must not be zero."
    price = data.get("price")
    if "price" in data and "priceCurrency" not in data and price != 0:
        yield (
            None,
            "missing_required_field",
            "An Offer with a non-zero price needs a priceCurrency.",
        )
