"""Whether a JSON value fits one of the data models' value types (schema.org types, enums)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from functools import partial

from .definitions import definitions

__all__ = ["DAY_OF_WEEK", "check_value_type", "is_currency_code", "is_url", "value_predicate"]

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


@cache
def enum_values(name: str) -> frozenset[str] | None:
    """The full URLs of the enumeration ``name``'s values; None if it is no enumeration."""
    enum = definitions()["enums"].get(name)
    if enum is None:
        return None
    return frozenset(enum["namespace"] + value for value in enum["values"])


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


@cache
def value_predicate(type_name: str) -> Callable[[object], bool] | None:
    """The test of whether a value fits ``type_name``; None when it is no plain value type
    (a schema.org value type, ``DayOfWeek`` or one of the models' enumerations)."""
    if type_name in _SCHEMA:
        return _SCHEMA[type_name]
    if type_name == "https://schema.org/DayOfWeek":
        return partial(_member, DAY_OF_WEEK)
    _, _, name = type_name.rpartition("/")
    if "#" in name:
        _, _, name = type_name.rpartition("#")
    values = enum_values(name)
    return partial(_member, values) if values is not None else None


def _member(values: frozenset[str], value: object) -> bool:
    return isinstance(value, str) and value in values


def check_value_type(type_name: str, value: object) -> bool | None:
    """True when ``value`` fits ``type_name``; None when the type is not a plain value type."""
    predicate = value_predicate(type_name)
    return None if predicate is None else predicate(value)


def is_currency_code(value: object) -> bool:
    """An ISO 4217 style code: three capital letters."""
    return isinstance(value, str) and bool(_CURRENCY.match(value))
