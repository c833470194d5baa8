"""Serializing pages: the envelope, item shapes and next URLs (no database)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

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


def _render_page_as_before(rows: list[ItemRow], kind: str, cursor: Cursor, ordering: str) -> bytes:
    """The serializer as it was before ids were written without json.dumps (commit 63d2d4f)."""
    kind_json = json.dumps(kind)
    parts = []
    for row in rows:
        head = (
            f'"kind":{kind_json},"id":{json.dumps(row.id, ensure_ascii=False)},'
            f'"modified":{int(row.modified)}'
        )
        if row.live and row.data is not None:
            parts.append(f'{{"state":"updated",{head},"data":{row.data}}}')
        else:
            parts.append(f'{{"state":"deleted",{head}}}')
    if rows:
        next_cursor = Cursor(
            rows[-1].modified, None if ordering == "change_number" else rows[-1].id
        )
    else:
        next_cursor = cursor
    from rpde_publisher.page import page_url

    next_url = page_url(URL, next_cursor, ordering)
    body = (
        f'{{"next":{json.dumps(next_url)},"items":[{",".join(parts)}],'
        f'"license":{json.dumps(LICENSE)}}}'
    )
    return body.encode("utf-8")


_ids = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(min_size=1, max_size=20),
)
_rows = st.lists(
    st.builds(
        ItemRow,
        _ids,
        st.integers(min_value=1, max_value=2**53),
        st.booleans(),
        st.one_of(st.none(), st.sampled_from(['{"name":"a"}', '{"x":[1,2],"é":"\\u2028"}'])),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(rows=_rows, kind=st.sampled_from(["SessionSeries", "FacilityUse/Slot", 'K"ïnd']))
def test_pages_are_byte_for_byte_what_they_were(rows: list[ItemRow], kind: str) -> None:
    for ordering in ("modified", "change_number"):
        page = render_page(
            rows, kind=kind, license=LICENSE, feed_url=URL, cursor=START, ordering=ordering
        )
        assert page.body == _render_page_as_before(rows, kind, START, ordering)
