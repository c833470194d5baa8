"""Parsing and writing RPDE cursors (no database, no Flask)."""

from __future__ import annotations

import pytest

from rpde_publisher.cursor import Cursor
from rpde_publisher.cursor import cursor_query
from rpde_publisher.cursor import parse_cursor
from rpde_publisher.cursor import START
from rpde_publisher.errors import InvalidCursorError


def parse(
    query: dict[str, list[str]], ordering: str = "modified", integer_ids: bool = True
) -> Cursor:
    return parse_cursor(query, ordering=ordering, integer_ids=integer_ids)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, START),
        ({"afterTimestamp": ["0"], "afterId": ["0"]}, Cursor(0, 0)),
        ({"afterTimestamp": ["17"], "afterId": ["-3"]}, Cursor(17, -3)),
        ({"afterTimestamp": [str(2**53)], "afterId": ["1"]}, Cursor(2**53, 1)),
        ({"afterTimestamp": ["007"], "afterId": ["1"]}, Cursor(7, 1)),
        ({"limit": ["10"], "other": ["x"]}, START),
    ],
)
def test_valid_timestamp_cursors(query: dict[str, list[str]], expected: Cursor) -> None:
    assert parse(query) == expected


def test_string_ids_are_kept_verbatim() -> None:
    cursor = parse({"afterTimestamp": ["5"], "afterId": ["a&b {c}+d é"]}, integer_ids=False)
    assert cursor == Cursor(5, "a&b {c}+d é")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"afterTimestamp": ["1"]}, "afterId"),
        ({"afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": ["1", "2"], "afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": ["1"], "afterId": ["1", "1"]}, "afterId"),
        ({"afterTimestamp": [" 1"], "afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": ["+1"], "afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": ["1e3"], "afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": [str(2**53 + 1)], "afterId": ["1"]}, "afterTimestamp"),
        ({"afterTimestamp": ["1"], "afterId": ["1.0"]}, "afterId"),
        ({"afterTimestamp": ["1"], "afterId": [str(2**63)]}, "afterId"),
        (
            {"afterTimestamp": ["1"], "afterId": ["1"], "afterChangeNumber": ["1"]},
            "afterChangeNumber",
        ),
    ],
)
def test_invalid_timestamp_cursors(query: dict[str, list[str]], parameter: str) -> None:
    with pytest.raises(InvalidCursorError) as excinfo:
        parse(query)
    assert excinfo.value.parameter == parameter
    assert excinfo.value.as_dict()["expected"]


@pytest.mark.parametrize("value", ["", "x" * 1025, "nul\x00"])
def test_invalid_string_ids(value: str) -> None:
    with pytest.raises(InvalidCursorError, match="afterId"):
        parse({"afterTimestamp": ["1"], "afterId": [value]}, integer_ids=False)


def test_change_number_cursors() -> None:
    assert parse({}, "change_number") == START
    assert parse({"afterChangeNumber": ["42"]}, "change_number") == Cursor(42)
    with pytest.raises(InvalidCursorError) as excinfo:
        parse({"afterTimestamp": ["1"], "afterId": ["2"]}, "change_number")
    assert excinfo.value.parameter == "afterTimestamp"
    with pytest.raises(InvalidCursorError):
        parse({"afterChangeNumber": ["-1"]}, "change_number")


@pytest.mark.parametrize(
    ("cursor", "ordering", "query"),
    [
        (START, "modified", ""),
        (Cursor(5, 9), "modified", "afterTimestamp=5&afterId=9"),
        (
            Cursor(5, "a&b=c d+{é}/"),
            "modified",
            "afterTimestamp=5&afterId=a%26b%3Dc%20d%2B%7B%C3%A9%7D%2F",
        ),
        (Cursor(12), "change_number", "afterChangeNumber=12"),
    ],
)
def test_cursor_query_is_canonical_and_encoded(cursor: Cursor, ordering: str, query: str) -> None:
    assert cursor_query(cursor, ordering) == query  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["a&b", "{x}", "1+1", "two words", "ünï", "%25", "=?#/"])
def test_cursor_query_round_trips_through_werkzeug(raw: str) -> None:
    from werkzeug.test import EnvironBuilder

    query = cursor_query(Cursor(3, raw), "modified")
    args = EnvironBuilder(query_string=query).get_request().args
    assert parse(args.to_dict(flat=False), integer_ids=False) == Cursor(3, raw)
