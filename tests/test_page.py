"""Serializing pages: the envelope, item shapes and next URLs (no database)."""

from __future__ import annotations

import json

from rpde_publisher.cursor import Cursor
from rpde_publisher.cursor import START
from rpde_publisher.page import render_page
from rpde_publisher.query import ItemRow

URL = "https://example.org/openactive/feeds/session-series"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def test_items_and_next_from_the_last_item() -> None:
    rows = [ItemRow(1, 10, True, '{"name":"a"}'), ItemRow("x y", 11, False, '{"name":"b"}')]
    page = render_page(
        rows, kind="SessionSeries", license=LICENSE, feed_url=URL, cursor=START, ordering="modified"
    )
    body = json.loads(page.body)
    assert list(body) == ["next", "items", "license"]
    assert body["items"] == [
        {
            "state": "updated",
            "kind": "SessionSeries",
            "id": 1,
            "modified": 10,
            "data": {"name": "a"},
        },
        {"state": "deleted", "kind": "SessionSeries", "id": "x y", "modified": 11},
    ]
    assert body["next"] == URL + "?afterTimestamp=11&afterId=x%20y"
    assert not page.is_last and page.item_count == 2


def test_last_page_points_at_itself() -> None:
    cursor = Cursor(11, "a&b")
    page = render_page(
        [], kind="SessionSeries", license=LICENSE, feed_url=URL, cursor=cursor, ordering="modified"
    )
    assert page.is_last
    assert json.loads(page.body) == {
        "next": URL + "?afterTimestamp=11&afterId=a%26b",
        "items": [],
        "license": LICENSE,
    }


def test_change_number_next() -> None:
    page = render_page(
        [ItemRow(4, 99, True, "{}")],
        kind="Event",
        license=LICENSE,
        feed_url=URL,
        cursor=Cursor(5),
        ordering="change_number",
    )
    assert json.loads(page.body)["next"] == URL + "?afterChangeNumber=99"


def test_non_ascii_and_escaping_survive() -> None:
    rows = [ItemRow('quo"te', 1, True, '{"name":"Café </script>"}')]
    page = render_page(
        rows, kind='K"ind', license=LICENSE, feed_url=URL, cursor=START, ordering="modified"
    )
    body = json.loads(page.body.decode("utf-8"))
    assert body["items"][0]["id"] == 'quo"te'
    assert body["items"][0]["kind"] == 'K"ind'
    assert body["items"][0]["data"]["name"] == "Café </script>"
