"""marshmallow helpers for OpenActive ``data``: no empty values; dates and durations."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from marshmallow import fields
from marshmallow import post_dump
from marshmallow import Schema

from ..pruning import prune

__all__ = ["CONTEXT", "DateTime", "Duration", "OpenActiveSchema", "iso_duration"]

#: The JSON-LD context of Modelling Opportunity Data 2.0.
CONTEXT = "https://openactive.io/"


class OpenActiveSchema(Schema):
    """A schema whose output never holds ``null``, ``""``, ``[]`` or ``{}``.

    OpenActive's validator fails items that carry empty values ("properties must be
    omitted when they contain null values"), so they are dropped, at every depth.
    """

    @post_dump
    def _drop_empty_values(self, data: dict[str, t.Any], **kwargs: t.Any) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], prune(data))


class DateTime(fields.Field):  # type: ignore[type-arg]
    """A timestamp as OpenActive wants it: whole seconds, UTC, with an offset."""

    def _serialize(
        self, value: datetime | None, attr: str | None, obj: t.Any, **kwargs: t.Any
    ) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Duration(fields.Field):  # type: ignore[type-arg]
    """A :class:`~datetime.timedelta` (or a number of minutes) as an ISO 8601 duration."""

    def _serialize(self, value: t.Any, attr: str | None, obj: t.Any, **kwargs: t.Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, timedelta):
            value = timedelta(minutes=value)
        return iso_duration(value)


def iso_duration(value: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` as ``"PT1H30M"``."""
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    date = f"{days}D" if days else ""
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + date + ("T" + time if time else "") if (date or time) else "PT0S"
