"""RPDE cursors: parse and validate a feed request's parameters, and write them back."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from .errors import InvalidCursorError
from .tables import Ordering

__all__ = [
    "AFTER_CHANGE_NUMBER",
    "AFTER_ID",
    "AFTER_TIMESTAMP",
    "CURSOR_PARAMETERS",
    "MAX_ID_LENGTH",
    "MAX_MODIFIED",
    "START",
    "Asked",
    "Cursor",
    "cached_cursor",
    "cursor_query",
    "parse_cursor",
]

AFTER_TIMESTAMP = "afterTimestamp"
AFTER_ID = "afterId"
AFTER_CHANGE_NUMBER = "afterChangeNumber"
#: The query parameters RPDE defines; any other is ignored.
CURSOR_PARAMETERS = (AFTER_TIMESTAMP, AFTER_ID, AFTER_CHANGE_NUMBER)

#: ``modified`` never exceeds this (JavaScript's Number.MAX_SAFE_INTEGER + 1).
MAX_MODIFIED = 2**53
#: The longest string id a client may send back.
MAX_ID_LENGTH = 1024

_UNSIGNED = re.compile(r"[0-9]{1,16}")
_SIGNED = re.compile(r"-?[0-9]{1,19}")
_INT64 = 2**63


@dataclass(frozen=True)
class Cursor:
    """A position in a feed: items strictly after it are returned.

    For change-number feeds ``id`` is ``None``. :data:`START` is the beginning of time.
    """

    modified: int | None
    id: int | str | None = None

    @property
    def is_start(self) -> bool:
        return self.modified is None


START = Cursor(None, None)


def parse_cursor(
    args: Mapping[str, Sequence[str]], *, ordering: Ordering, integer_ids: bool
) -> Cursor:
    """The cursor a feed request asks for, or :exc:`InvalidCursorError` saying what is wrong.

    ``args`` maps each query parameter to all the values it was given. Parameters that
    are not RPDE's own are ignored.
    """
    for key in (AFTER_TIMESTAMP, AFTER_ID, AFTER_CHANGE_NUMBER):
        if len(args.get(key, ())) > 1:
            raise InvalidCursorError(key, "was given more than once", "the parameter at most once")
    timestamp = _single(args, AFTER_TIMESTAMP)
    item_id = _single(args, AFTER_ID)
    change_number = _single(args, AFTER_CHANGE_NUMBER)
    if ordering == "change_number":
        if timestamp is not None or item_id is not None:
            key = AFTER_TIMESTAMP if timestamp is not None else AFTER_ID
            raise InvalidCursorError(
                key,
                "this feed is ordered by change number",
                "afterChangeNumber=<integer>, or no parameters for the first page",
            )
        if change_number is None:
            return START
        return Cursor(_modified(AFTER_CHANGE_NUMBER, change_number))
    if change_number is not None:
        raise InvalidCursorError(
            AFTER_CHANGE_NUMBER,
            "this feed is ordered by modified timestamp and id",
            "afterTimestamp=<integer>&afterId=<id>, or no parameters for the first page",
        )
    if timestamp is None and item_id is None:
        return START
    if timestamp is None or item_id is None:
        missing = AFTER_TIMESTAMP if timestamp is None else AFTER_ID
        raise InvalidCursorError(
            missing,
            "afterTimestamp and afterId must be given together",
            "both afterTimestamp=<integer> and afterId=<id>, or neither",
        )
    return Cursor(_modified(AFTER_TIMESTAMP, timestamp), _item_id(item_id, integer_ids))


#: Cursors recently asked for, remembered; longer values than _MAX_CACHED_LENGTH (in all)
#: are parsed but not remembered: a real cursor is two numbers, or a number and an id.
_MAX_CACHED_CURSORS = 4096
_MAX_CACHED_LENGTH = 256
Asked = tuple[tuple[str, tuple[str, ...]], ...]


def cached_cursor(ordering: Ordering, integer_ids: bool, asked: Asked) -> tuple[Cursor, str]:
    """The cursor RPDE's own parameters ``asked`` for (name, values), and its canonical
    query. Consumers ask for the same pages over and over (the last page above all), and
    parsing one cost a sixth of a cached page; keying by RPDE's parameters alone, junk
    ones neither miss the cache nor fill it. An invalid cursor raises, and is not kept."""
    if sum(len(value) for _, values in asked for value in values) > _MAX_CACHED_LENGTH:
        return _parsed(ordering, integer_ids, asked)
    return _remembered(ordering, integer_ids, asked)


def _parsed(ordering: Ordering, integer_ids: bool, asked: Asked) -> tuple[Cursor, str]:
    cursor = parse_cursor(
        {name: list(values) for name, values in asked}, ordering=ordering, integer_ids=integer_ids
    )
    return cursor, cursor_query(cursor, ordering)


_remembered = functools.lru_cache(maxsize=_MAX_CACHED_CURSORS)(_parsed)


def cursor_query(cursor: Cursor, ordering: Ordering) -> str:
    """The canonical query string of ``cursor`` (empty at the start of the feed).

    Parameters come in RPDE's order and every value is percent-encoded, so the URL
    round-trips through any client byte for byte.
    """
    if cursor.is_start:
        return ""
    if ordering == "change_number":
        return f"{AFTER_CHANGE_NUMBER}={cursor.modified}"
    item_id = cursor.id if type(cursor.id) is int else quote(str(cursor.id), safe="")
    return f"{AFTER_TIMESTAMP}={cursor.modified}&{AFTER_ID}={item_id}"


def _single(args: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = args.get(key)
    return values[0] if values else None


def _modified(key: str, value: str) -> int:
    if not _UNSIGNED.fullmatch(value):
        raise InvalidCursorError(
            key,
            f"{_shown(value)} is not a non-negative integer of at most 16 digits",
            f"an integer from 0 to {MAX_MODIFIED}, as found in a page's next URL",
        )
    number = int(value)
    if number > MAX_MODIFIED:
        raise InvalidCursorError(
            key, f"{number} is too large", f"an integer from 0 to {MAX_MODIFIED}"
        )
    return number


def _item_id(value: str, integer_ids: bool) -> int | str:
    if integer_ids:
        if not _SIGNED.fullmatch(value) or not -_INT64 <= int(value) < _INT64:
            raise InvalidCursorError(
                AFTER_ID,
                f"{_shown(value)} is not an integer; this feed's ids are integers",
                "the id of the last item seen, a 64-bit integer",
            )
        return int(value)
    if not value or len(value) > MAX_ID_LENGTH or "\x00" in value:
        raise InvalidCursorError(
            AFTER_ID,
            "is empty, too long or contains a NUL character",
            f"the id of the last item seen, 1 to {MAX_ID_LENGTH} characters, percent-encoded",
        )
    return value


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")
