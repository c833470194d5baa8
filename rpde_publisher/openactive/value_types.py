"""Whether a JSON value fits one of the data models' value types (schema.org types, enums)."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Callable
from collections.abc import Mapping

from .rule_tables import enum_values

__all__ = ["DAY_OF_WEEK", "check_value_type", "is_currency_code", "is_url"]

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_DURATION = re.compile(
    r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s]+$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
DAY_OF_WEEK = frozenset(
    f"https://schema.org/{d}"
    for d in (
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "PublicHolidays",
    )
)


def is_url(value: object) -> bool:
    """An absolute URL, as the validator's ``fields_correct_type`` accepts one."""
    return isinstance(value, str) and bool(_URL.match(value))


def _string(pattern: re.Pattern[str]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.match(value))


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCHEMA: dict[str, Callable[[object], bool]] = {
    "https://schema.org/Text": lambda value: isinstance(value, str),
    "https://schema.org/URL": is_url,
    "https://schema.org/Boolean": lambda value: isinstance(value, bool),
    "https://schema.org/Integer": _integer,
    "https://schema.org/Number": _number,
    "https://schema.org/Float": _number,
    "https://schema.org/DateTime": _string(_DATETIME),
    "https://schema.org/Date": _string(_DATE),
    "https://schema.org/Time": _string(_TIME),
    "https://schema.org/Duration": _string(_DURATION),
}


def check_value_type(
    type_name: str, value: object, enums: Mapping[str, Mapping[str, t.Any]]
) -> bool | None:
    """True when ``value`` fits ``type_name``; None when the type is not a plain value type."""
    if type_name in _SCHEMA:
        return _SCHEMA[type_name](value)
    if type_name == "https://schema.org/DayOfWeek":
        return isinstance(value, str) and value in DAY_OF_WEEK
    namespace, _, name = type_name.rpartition("/")
    if "#" in name:
        namespace, _, name = type_name.rpartition("#")
    values = enum_values(name)
    if values is not None:
        return isinstance(value, str) and value in values
    return None


def is_currency_code(value: object) -> bool:
    """An ISO 4217 style code: three capital letters."""
    return isinstance(value, str) and bool(_CURRENCY.match(value))
