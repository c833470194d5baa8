"""Deliberately broken RPDE feeds, one fault each, served by a tiny Flask app.

Every fixture is a correct feed (:class:`Feed`) with one thing overridden, the way a
real publisher gets it wrong. ``FIXTURES`` says which validator rules must name each
fault, so the tests can run both our validator and OpenActive's over them.
"""

from __future__ import annotations

import json
import typing as t
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

from flask import Flask
from flask import request
from flask import Response

Cursor = tuple[t.Any, ...]
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass
class Row:
    id: t.Any
    modified: t.Any
    deleted: bool = False
    name: str = ""


@dataclass(frozen=True)
class Fixture:
    """One broken feed and what must catch it."""

    name: str
    feed: type[Feed]
    #: Rules our validator must report for this feed.
    catches: frozenset[str]
    #: Other failures the fault causes downstream (allowed, not required).
    also: frozenset[str] = frozenset()
    #: Run OpenActive's rpde-validator on it too (False where it would loop for ever).
    openactive: bool = True
    #: What the fault is, in words (for failure messages and the docs).
    story: str = ""


class Feed:
    """A correct RPDE feed over in-memory rows: keyset paging on (modified, id)."""

    page_size = 3
    rows_count = 10
    change_numbers = False

    def __init__(self) -> None:
        self.rows = self.make_rows()
        self.requests: Counter[str] = Counter()

    def make_rows(self) -> list[Row]:
        rows = [Row(i, 1000 + 10 * i, name=f"Session {i}") for i in range(1, self.rows_count + 1)]
        rows[3].deleted = True
        return rows

    # Reading the request ---------------------------------------------------------

    def cursor(self, args: t.Mapping[str, str]) -> Cursor | None:
        if self.change_numbers:
            value = args.get("afterChangeNumber")
            return None if value is None else (int(value),)
        if "afterTimestamp" not in args:
            return None
        return (self.parse_modified(args["afterTimestamp"]), self.parse_id(args.get("afterId", "")))

    def parse_modified(self, value: str) -> t.Any:
        return int(value)

    def parse_id(self, value: str) -> t.Any:
        return int(value) if value.lstrip("-").isdigit() else value

    def key(self, row: Row) -> Cursor:
        return (row.modified,) if self.change_numbers else (row.modified, row.id)

    def ordered(self) -> list[Row]:
        return sorted(self.rows, key=self.key)

    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = [r for r in self.ordered() if cursor is None or self.key(r) > cursor]
        return rows[: self.page_size]

    # Writing the page --------------------------------------------------------------

    def item(self, row: Row) -> dict[str, t.Any]:
        item: dict[str, t.Any] = {
            "state": "deleted" if row.deleted else "updated",
            "kind": "SessionSeries",
            "id": row.id,
            "modified": row.modified,
        }
        if not row.deleted:
            item["data"] = self.data(row)
        return item

    def data(self, row: Row) -> dict[str, t.Any]:
        return {
            "@context": "https://openactive.io/",
            "@type": "SessionSeries",
            "@id": f"https://example.org/session-series/{row.id}",
            "name": row.name,
        }

    def query(self, row: Row) -> str:
        if self.change_numbers:
            return f"afterChangeNumber={row.modified}"
        return f"afterTimestamp={row.modified}&afterId={quote(str(row.id), safe='')}"

    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        return f"{feed_url}?{self.query(rows[-1])}" if rows else page_url

    def envelope(self, next_url: t.Any, items: list[dict[str, t.Any]]) -> dict[str, t.Any]:
        return {"next": next_url, "items": items, "license": LICENSE}

    def headers(self, is_last: bool) -> dict[str, str]:
        return {"Cache-Control": f"public, max-age={8 if is_last else 3600}"}

    def content_type(self) -> str:
        return "application/json"

    def respond(self, feed_url: str, page_url: str, args: t.Mapping[str, str]) -> Response:
        self.requests[page_url] += 1
        rows = self.select(self.cursor(args))
        items = [self.item(row) for row in rows]
        body = self.envelope(self.next_url(feed_url, page_url, rows), items)
        response = Response(json.dumps(body), content_type=self.content_type())
        response.headers.update(self.headers(not items))
        return response


# The faults ----------------------------------------------------------------------------


class Good(Feed):
    page_size = 500
    rows_count = 1200


class GoodChangeNumber(Good):
    change_numbers = True


class SmallPages(Feed):
    """Correct, with pages of 3 items."""


class NoContext(Feed):
    def data(self, row: Row) -> dict[str, t.Any]:
        return {"name": row.name}


class Status500(Feed):
    def respond(self, feed_url: str, page_url: str, args: t.Mapping[str, str]) -> Response:
        if "afterTimestamp" in args:
            return Response("<h1>Internal Server Error</h1>", 500, content_type="text/html")
        return super().respond(feed_url, page_url, args)


class WrongContentType(Feed):
    def content_type(self) -> str:
        return "text/html; charset=utf-8"


class NotJson(Feed):
    def respond(self, feed_url: str, page_url: str, args: t.Mapping[str, str]) -> Response:
        if "afterTimestamp" in args:
            return Response("<html><body>Down for maintenance</body></html>", 200)
        return super().respond(feed_url, page_url, args)


class NoCacheControl(Feed):
    def headers(self, is_last: bool) -> dict[str, str]:
        return {}


class NoLicense(Feed):
    def envelope(self, next_url: t.Any, items: list[dict[str, t.Any]]) -> dict[str, t.Any]:
        return {"next": next_url, "items": items}


class ItemMissingKind(Feed):
    def item(self, row: Row) -> dict[str, t.Any]:
        item = super().item(row)
        del item["kind"]
        return item


class DeletedWithNullData(Feed):
    def item(self, row: Row) -> dict[str, t.Any]:
        item = super().item(row)
        if row.deleted:
            item["data"] = None  # a serializer that writes None instead of leaving it out
        return item


class UpdatedWithoutData(Feed):
    def item(self, row: Row) -> dict[str, t.Any]:
        item = super().item(row)
        if row.id == 2:
            del item["data"]
        return item


class BadState(Feed):
    def item(self, row: Row) -> dict[str, t.Any]:
        item = super().item(row)
        item["state"] = item["state"].capitalize()  # RPDE draft 0.1 wrote 'Updated'
        return item


class RelativeNext(Feed):
    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        url = super().next_url(feed_url, page_url, rows)
        return "/" + url.split("/", 3)[3]


class BaseMismatch(Feed):
    """Next URLs add a trailing slash (the app answers both paths)."""

    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        base = feed_url.rstrip("/") + "/"
        return f"{base}?{self.query(rows[-1])}" if rows else page_url


class NextSelfWithItems(Feed):
    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        if rows and rows[0].id > 3:
            return page_url  # "no more pages" decided by a count that is off by one
        return super().next_url(feed_url, page_url, rows)


class AfterIdMisspelt(Feed):
    def cursor(self, args: t.Mapping[str, str]) -> Cursor | None:
        return super().cursor({**args, "afterId": args.get("afterID", args.get("afterId", ""))})

    def query(self, row: Row) -> str:
        return f"afterTimestamp={row.modified}&afterID={row.id}"


class NextFromFirstItem(Feed):
    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        return f"{feed_url}?{self.query(rows[0])}" if rows else page_url


class ModifiedString(Feed):
    def item(self, row: Row) -> dict[str, t.Any]:
        item = super().item(row)
        item["modified"] = str(row.modified)
        return item


class ModifiedIso(Feed):
    """Timestamps as ISO strings, in modified and in afterTimestamp."""

    def make_rows(self) -> list[Row]:
        rows = super().make_rows()
        for row in rows:
            row.modified = f"2026-03-01T10:{row.id:02d}:00.000Z"
        return rows

    def parse_modified(self, value: str) -> t.Any:
        return value


class ChangeNumberPadded(Feed):
    change_numbers = True

    def query(self, row: Row) -> str:
        return f"afterChangeNumber={row.modified:08d}"


class SortedById(Feed):
    """Pages in id order while next carries (modified, id): the cursor names a record."""

    def make_rows(self) -> list[Row]:
        rows = super().make_rows()
        for row in rows:
            row.modified = 1000 + 10 * ((row.id * 7) % 10)
        return rows

    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = sorted(self.rows, key=lambda r: r.id)
        keys = [self.key(r) for r in rows]
        start = keys.index(cursor) + 1 if cursor in keys else 0
        return rows[start : start + self.page_size]


class ChangeNumberDecreasing(SortedById):
    change_numbers = True


class GreaterOrEqual(Feed):
    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = [r for r in self.ordered() if cursor is None or self.key(r) >= cursor]
        return rows[: self.page_size]


class DuplicateVersions(Feed):
    """A feed read from a history table: every version of an item, not the latest."""

    def make_rows(self) -> list[Row]:
        rows = super().make_rows()
        return [*rows, Row(2, 1105, name="Session 2, renamed")]


class NoDeleted(Feed):
    def make_rows(self) -> list[Row]:
        rows = super().make_rows()
        return [row for row in rows if not row.deleted]  # hard deletes: the row just goes


class PageNumbers(Feed):
    """Offset paging (?page=N) instead of RPDE's cursor."""

    def respond(self, feed_url: str, page_url: str, args: t.Mapping[str, str]) -> Response:
        number = int(args.get("page", "1"))
        start = (number - 1) * self.page_size
        rows = self.ordered()[start : start + self.page_size]
        items = [self.item(row) for row in rows]
        next_url = f"{feed_url}?page={number + 1}" if rows else page_url
        response = Response(
            json.dumps(self.envelope(next_url, items)), content_type="application/json"
        )
        response.headers.update(self.headers(not items))
        return response


class ReferencesRecord(Feed):
    """The cursor is looked up as a record; an unknown one starts again from the top."""

    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = self.ordered()
        keys = [self.key(r) for r in rows]
        start = keys.index(cursor) + 1 if cursor in keys else 0
        return rows[start : start + self.page_size]


class LastPageReordered(Feed):
    """The last page's next lists its parameters in another order."""

    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        if rows or "?" not in page_url:
            return super().next_url(feed_url, page_url, rows)
        query = page_url.split("?", 1)[1]
        if query.startswith("afterId="):
            return page_url
        params = dict(part.split("=", 1) for part in query.split("&"))
        after_id, timestamp = params.get("afterId", ""), params["afterTimestamp"]
        return f"{feed_url}?afterId={after_id}&afterTimestamp={timestamp}"


class LastPageNoNext(Feed):
    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        return super().next_url(feed_url, page_url, rows) if rows else None


class HugeModified(Feed):
    """.NET ticks-sized modified values, far above 2**53."""

    def make_rows(self) -> list[Row]:
        rows = super().make_rows()
        for row in rows:
            row.modified = 2**60 + 1000 * row.id
        return rows


class UnsortedPage(Feed):
    """Each page shuffled after the query (its last item is still the largest)."""

    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = super().select(cursor)
        return [rows[1], rows[0], *rows[2:]] if len(rows) > 2 else rows


class UnstableLastPage(Feed):
    """Every other request of the last page returns the last item again (a stale replica)."""

    def select(self, cursor: Cursor | None) -> list[Row]:
        rows = super().select(cursor)
        last = self.ordered()[-1]
        if not rows and cursor == self.key(last) and self.requests[request.url] % 2 == 0:
            return [last]
        return rows


class VanishingItem(Feed):
    """Item 7 is on one replica only: every other walk misses it, with no tombstone."""

    walks = 0

    def select(self, cursor: Cursor | None) -> list[Row]:
        if cursor is None:
            self.walks += 1
        hidden = {7} if self.walks % 2 == 0 else set()
        rows = [r for r in self.ordered() if r.id not in hidden]
        rows = [r for r in rows if cursor is None or self.key(r) > cursor]
        return rows[: self.page_size]


class Loops(Feed):
    """The last page sends consumers back to the first page."""

    def next_url(self, feed_url: str, page_url: str, rows: list[Row]) -> t.Any:
        return super().next_url(feed_url, page_url, rows) if rows else feed_url


def _fixture(name: str, feed: type[Feed], catches: str, also: str = "", **kw: t.Any) -> Fixture:
    return Fixture(name, feed, frozenset(catches.split()), frozenset(also.split()), **kw)


FIXTURES: dict[str, Fixture] = {
    f.name: f
    for f in [
        _fixture("good", Good, "", story="a correct feed, 1200 items in pages of 500"),
        _fixture("good-change-number", GoodChangeNumber, "", story="a correct change-number feed"),
        _fixture("small-pages", SmallPages, "page-size", story="pages of 3 items"),
        _fixture("no-context", NoContext, "openactive-data", story="data without @context"),
        _fixture("status-500", Status500, "http-status", story="page 2 answers 500"),
        _fixture("wrong-content-type", WrongContentType, "content-type", story="text/html"),
        _fixture("not-json", NotJson, "json-object", "content-type", story="page 2 is HTML"),
        _fixture("no-cache-control", NoCacheControl, "cache-control", story="no Cache-Control"),
        _fixture("no-license", NoLicense, "required-properties", story="no license"),
        _fixture("item-missing-kind", ItemMissingKind, "item-properties", story="no kind"),
        _fixture(
            "deleted-with-null-data",
            DeletedWithNullData,
            "item-properties property-values",
            story='deleted items carry "data": null',
        ),
        _fixture("updated-without-data", UpdatedWithoutData, "item-properties", story="no data"),
        _fixture("bad-state", BadState, "property-values", story="state 'Updated'"),
        _fixture("relative-next", RelativeNext, "next-url-valid", story="next is a path"),
        _fixture("base-mismatch", BaseMismatch, "next-url-base", story="next adds a slash"),
        _fixture(
            "next-self-with-items",
            NextSelfWithItems,
            "next-not-self",
            "cursor-increases last-item-next",
            story="a page with items points at itself",
        ),
        _fixture("after-id-misspelt", AfterIdMisspelt, "after-id", story="afterID"),
        _fixture(
            "next-from-first-item",
            NextFromFirstItem,
            "last-item-next",
            "duplicate-items ordering",
            story="next built from the first item",
        ),
        _fixture("modified-string", ModifiedString, "modified-integer", story='"modified": "1010"'),
        _fixture(
            "modified-iso",
            ModifiedIso,
            "modified-integer cursor-format last-page-check",
            story="ISO date strings as modified",
        ),
        _fixture(
            "change-number-padded",
            ChangeNumberPadded,
            "cursor-format",
            "last-item-next last-page-check",
            story="afterChangeNumber=00001010",
        ),
        _fixture(
            "sorted-by-id",
            SortedById,
            "cursor-increases",
            "ordering last-page-probe last-page-self",
            story="pages in id order",
        ),
        _fixture(
            "change-number-decreasing",
            ChangeNumberDecreasing,
            "cursor-increases",
            "ordering last-page-probe last-page-self",
            story="change numbers not in page order",
        ),
        _fixture(
            "greater-or-equal",
            GreaterOrEqual,
            "duplicate-items ordering next-not-self",
            "cursor-increases",
            story="`>=` instead of `>`",
        ),
        _fixture("duplicate-versions", DuplicateVersions, "duplicate-items", story="history rows"),
        _fixture("no-deleted", NoDeleted, "deleted-items", story="hard deletes, no tombstones"),
        _fixture("page-numbers", PageNumbers, "last-page-check", story="?page=N paging"),
        _fixture(
            "references-record",
            ReferencesRecord,
            "last-page-probe last-page-self",
            story="an unknown cursor restarts the feed",
        ),
        _fixture(
            "last-page-reordered",
            LastPageReordered,
            "cursor-increases",
            story="the last page's next reorders its parameters",
        ),
        _fixture(
            "last-page-no-next",
            LastPageNoNext,
            "next-url-valid no-last-page",
            "last-page-check",
            story='the last page has "next": null',
        ),
        _fixture(
            "huge-modified",
            HugeModified,
            "modified-range",
            "last-page-probe last-page-self",
            story="modified around 2**60",
        ),
        _fixture("unsorted-page", UnsortedPage, "ordering", story="items shuffled in a page"),
        _fixture(
            "unstable-last-page",
            UnstableLastPage,
            "last-page-stable",
            story="the last page re-fetched returns an old item",
        ),
        _fixture("vanishing-item", VanishingItem, "rewalk", story="an item flickers"),
        _fixture(
            "loops",
            Loops,
            "no-last-page",
            "last-page-check",
            openactive=False,
            story="the last page points back to the first page",
        ),
    ]
}


def make_app() -> Flask:
    """A fresh app serving every fixture at ``/feeds/<name>`` (state starts anew)."""
    app = Flask(__name__)
    feeds = {name: fixture.feed() for name, fixture in FIXTURES.items()}

    @app.get("/feeds/<name>")
    @app.get("/feeds/<name>/")
    def feed(name: str) -> Response:
        if name not in feeds:
            return Response("{}", 404, content_type="application/json")
        feed_url = request.base_url
        if name == "base-mismatch":
            feed_url = feed_url.rstrip("/")
        return feeds[name].respond(feed_url, request.url, request.args)

    return app
