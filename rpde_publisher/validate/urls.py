"""Reading RPDE URLs as consumers do: resolve ``next``, read cursors, compare their values."""

from __future__ import annotations

import ipaddress
import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

__all__ = [
    "AFTER_CHANGE_NUMBER",
    "AFTER_ID",
    "AFTER_TIMESTAMP",
    "INTEGER",
    "SortKey",
    "base",
    "cursor_of",
    "is_absolute_http_url",
    "misspelt",
    "param",
    "resolve",
    "same_value",
    "value_key",
]

AFTER_TIMESTAMP = "afterTimestamp"
AFTER_ID = "afterId"
AFTER_CHANGE_NUMBER = "afterChangeNumber"

#: How OpenActive's validator recognises an integer cursor value.
INTEGER = re.compile(r"[1-9][0-9]*")
#: A sort key that orders numbers before strings, so mixed values still compare.
SortKey = tuple[int, t.Any]


def resolve(next_url: t.Any, page_url: str) -> str | None:
    """``next`` as consumers follow it: a root-relative path is put on the page's origin."""
    if not isinstance(next_url, str):
        return None
    if next_url.startswith("/") and not next_url.startswith("//"):
        parts = urlsplit(page_url)
        return f"{parts.scheme}://{parts.netloc}{next_url}"
    return next_url


def is_absolute_http_url(url: str) -> bool:
    """An absolute ``http``/``https`` URL with a real host (a domain, localhost or an IP)."""
    if any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or port == 0:
        return False
    if host == "localhost" or "." in host.strip("."):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def param(url: str | None, name: str) -> str | None:
    """The first value of query parameter ``name`` in ``url`` (decoded), if any."""
    if url is None:
        return None
    try:
        values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name)
    except ValueError:
        return None
    return values[0] if values else None


def misspelt(url: str | None, name: str) -> str | None:
    """A parameter of ``url`` that is ``name`` in another case (``afterID``), if any."""
    if url is None:
        return None
    for key in parse_qs(urlsplit(url).query, keep_blank_values=True):
        if key != name and key.lower() == name.lower():
            return key
    return None


def base(url: str) -> str:
    """The URL before its query string: scheme, host and path."""
    return url.split("?", 1)[0]


def value_key(value: t.Any) -> SortKey:
    """How cursor values compare: integers (and digit-only strings) as numbers, else text."""
    if isinstance(value, bool):
        return (2, str(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str) and (INTEGER.fullmatch(value) or value == "0"):
        return (0, int(value))
    return (1, str(value))


def same_value(item_value: t.Any, url_value: str | None) -> bool:
    """Whether an item's ``id``/``modified`` is what a URL parameter says it is."""
    if url_value is None or isinstance(item_value, bool):
        return False
    if isinstance(item_value, int):
        return url_value == str(item_value)
    return isinstance(item_value, str) and url_value == item_value


def cursor_of(url: str | None) -> tuple[SortKey, ...] | None:
    """The position a URL asks for, as comparable keys; ``None`` for the first page."""
    change_number = param(url, AFTER_CHANGE_NUMBER)
    if change_number is not None:
        return (value_key(change_number),)
    timestamp = param(url, AFTER_TIMESTAMP)
    if timestamp is None:
        return None
    return (value_key(timestamp), value_key(param(url, AFTER_ID) or ""))
