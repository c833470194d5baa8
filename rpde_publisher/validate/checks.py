"""The page rules: each page's HTTP answer, envelope, items and next URL, and the walk so far."""

from __future__ import annotations

import typing as t
from collections import Counter
from dataclasses import dataclass

from ..cursor import MAX_MODIFIED
from .findings import Finding
from .rules import severity_of
from .urls import AFTER_CHANGE_NUMBER
from .urls import AFTER_ID
from .urls import AFTER_TIMESTAMP
from .urls import base
from .urls import cursor_of
from .urls import INTEGER
from .urls import is_absolute_http_url
from .urls import misspelt
from .urls import param
from .urls import same_value
from .urls import SortKey
from .urls import value_key

__all__ = [
    "EXAMPLES",
    "RECOMMENDED_PAGE_SIZE",
    "RPDE_CONTENT_TYPES",
    "FeedChecks",
    "WalkedPage",
    "examples",
]

RPDE_CONTENT_TYPES = ("application/json", "application/vnd.openactive.rpde+json")
#: OpenActive's recommended page size; smaller pages earn a warning.
RECOMMENDED_PAGE_SIZE = 500
#: How many examples a finding lists before "and N more".
EXAMPLES = 5


@dataclass(frozen=True)
class WalkedPage:
    url: str
    items: int
    is_last: bool


def examples(values: t.Sequence[t.Any]) -> str:
    shown = ", ".join(repr(value) for value in values[:EXAMPLES])
    return shown + (f" and {len(values) - EXAMPLES} more" if len(values) > EXAMPLES else "")


class FeedChecks:
    """Applies the page rules to the pages of one walk, keeping what spans pages."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.pages: list[WalkedPage] = []
        self.items = 0
        self.deleted_items = 0
        self.ids: list[t.Any] = []
        self.has_openactive_data = False
        #: The cursor values of the latest ``next`` seen, as OpenActive's validator keeps them.
        self.last_timestamp: str | None = None
        self.last_change_number: str | None = None
        self.first_after_id: str | None = None
        self._seen: dict[tuple[str, t.Any], str] = {}
        self._last_key: tuple[SortKey, ...] | None = None
        self._last_item_url: str | None = None

    def add(self, rule: str, message: str, url: str | None) -> None:
        self.findings.append(Finding(rule, severity_of(rule), message, url))

    # HTTP -------------------------------------------------------------------------

    def http(self, url: str, headers: t.Mapping[str, str], *, is_last: bool) -> None:
        """Content type and cache headers of the page at ``url``."""
        content_type = headers.get("content-type", "")
        if not content_type.startswith(RPDE_CONTENT_TYPES):
            self.add(
                "content-type",
                f"Content-Type is {content_type or 'missing'!r}; RPDE requires"
                " 'application/json' (or 'application/vnd.openactive.rpde+json').",
                url,
            )
        self._cache_control(url, headers.get("cache-control"), is_last)

    def _cache_control(self, url: str, header: str | None, is_last: bool) -> None:
        directives = {}
        for part in (header or "").split(","):
            name, _, value = part.strip().partition("=")
            directives[name.strip().lower()] = value.strip().strip('"')
        try:
            max_age: int | None = int(directives["max-age"])
        except (KeyError, ValueError):
            max_age = None
        public = "public" in directives
        if is_last and not (public and max_age is not None and max_age <= 8):
            wanted = "'public, max-age=8' (or less) on the last page"
        elif not is_last and not (public and max_age is not None and max_age >= 3600):
            wanted = "'public, max-age=3600' (or more) on pages with items"
        else:
            return
        self.add(
            "cache-control",
            f"Cache-Control is {header or 'missing'!r}; OpenActive asks for {wanted}, so CDNs"
            " can absorb consumers' polling.",
            url,
        )

    # One page ---------------------------------------------------------------------

    def page(self, url: str, body: dict[str, t.Any], *, is_last: bool, walked: bool) -> None:
        """Every rule that looks at one page; ``walked`` pages also count for the walk rules."""
        items = body.get("items")
        item_list = (
            [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
        )
        self._envelope(url, body)
        self._item_properties(url, items)
        next_url = body.get("next")
        self._next(url, next_url, item_list)
        self._modified(url, item_list)
        if walked:
            self._walk(url, next_url if isinstance(next_url, str) else None, item_list, is_last)
            self.pages.append(
                WalkedPage(url, len(items) if isinstance(items, list) else 0, is_last)
            )

    def _envelope(self, url: str, body: dict[str, t.Any]) -> None:
        missing = [key for key in ("next", "items", "license") if key not in body]
        if missing:
            self.add(
                "required-properties",
                f"The page has no {' or '.join(repr(key) for key in missing)}; every RPDE page"
                " has next, items and license.",
                url,
            )
        items = body.get("items")
        if "items" in body and not isinstance(items, list):
            self.add("property-values", f"'items' is {type(items).__name__}, not an array.", url)
        if "license" in body and not isinstance(body["license"], str):
            self.add("property-values", "'license' is not a string (a licence URL).", url)

    def _item_properties(self, url: str, items: t.Any) -> None:
        if not isinstance(items, list):
            return
        bad: Counter[str] = Counter()
        missing: Counter[str] = Counter()
        no_data: list[t.Any] = []
        extra_data: list[t.Any] = []
        for item in items:
            if not isinstance(item, dict):
                bad["item (not an object)"] += 1
                continue
            for key in ("state", "kind", "id", "modified"):
                if key not in item:
                    missing[key] += 1
            state = item.get("state")
            if "state" in item and state not in ("updated", "deleted"):
                bad[f"state ({state!r}: must be 'updated' or 'deleted')"] += 1
            if "kind" in item and not isinstance(item["kind"], str):
                bad["kind (not a string)"] += 1
            item_id = item.get("id")
            if "id" in item and (
                isinstance(item_id, bool) or not isinstance(item_id, str | int | float)
            ):
                bad["id (neither a string nor a number)"] += 1
            if "data" in item and not isinstance(item["data"], dict):
                bad[f"data ({type(item['data']).__name__}, not an object)"] += 1
            if state == "updated" and "data" not in item:
                no_data.append(item_id)
            if state == "deleted" and "data" in item:
                extra_data.append(item_id)
            data = item.get("data")
            if isinstance(data, dict) and not self.has_openactive_data:
                context = data.get("@context")
                contexts = context if isinstance(context, list) else [context]
                self.has_openactive_data = any(
                    isinstance(c, str) and "openactive.io" in c for c in contexts
                )
        for what, count in bad.items():
            self.add("property-values", f"{count} item(s) have an invalid {what}.", url)
        for key, count in missing.items():
            self.add("item-properties", f"{count} item(s) have no {key!r}.", url)
        if no_data:
            self.add(
                "item-properties",
                f"{len(no_data)} 'updated' item(s) have no data: ids {examples(no_data)}.",
                url,
            )
        if extra_data:
            self.add(
                "item-properties",
                f"{len(extra_data)} 'deleted' item(s) carry a data key (even null is not"
                f" allowed; leave it out): ids {examples(extra_data)}.",
                url,
            )

    def _next(self, url: str, next_url: t.Any, items: list[dict[str, t.Any]]) -> None:
        if not isinstance(next_url, str) or not is_absolute_http_url(next_url):
            shown = "missing" if next_url is None else repr(next_url)
            self.add(
                "next-url-valid",
                f"next is {shown}; it must be an absolute http(s) URL.",
                url,
            )
        elif base(next_url) != base(url):
            self.add(
                "next-url-base",
                f"next starts {base(next_url)!r} but this page is {base(url)!r}; scheme,"
                " host and path must stay the same.",
                url,
            )
        if not isinstance(next_url, str):
            return
        if items and next_url == url:
            self.add(
                "next-not-self",
                "This page has items but its next is its own URL; consumers would fetch it"
                " for ever. Only the last page, with no items, points at itself.",
                url,
            )
        timestamp = param(next_url, AFTER_TIMESTAMP)
        change_number = param(next_url, AFTER_CHANGE_NUMBER)
        after_id = param(next_url, AFTER_ID)
        if timestamp is not None and after_id is None:
            wrong = misspelt(next_url, AFTER_ID)
            hint = f" (it has {wrong!r}: the name is case-sensitive)" if wrong else ""
            self.add("after-id", f"next has afterTimestamp but no afterId{hint}.", url)
            if wrong:
                after_id = param(next_url, wrong)
        for name, value in ((AFTER_TIMESTAMP, timestamp), (AFTER_CHANGE_NUMBER, change_number)):
            if value is not None and not INTEGER.fullmatch(value):
                self.add(
                    "cursor-format",
                    f"next has {name}={value!r}; it must be a positive integer written"
                    " exactly as the items' modified (no quotes, signs or leading zeros).",
                    url,
                )
        if items and (timestamp is not None or change_number is not None):
            last = items[-1]
            if change_number is not None:
                matches = same_value(last.get("modified"), change_number)
            else:
                matches = same_value(last.get("modified"), timestamp) and same_value(
                    last.get("id"), after_id
                )
            if not matches:
                self.add(
                    "last-item-next",
                    f"next ({next_url}) is not built from the last item (id"
                    f" {last.get('id')!r}, modified {last.get('modified')!r}); build it from"
                    " the last item of the same query, or consumers skip or repeat items.",
                    url,
                )

    def _modified(self, url: str, items: list[dict[str, t.Any]]) -> None:
        not_integer = []
        out_of_range = []
        for item in items:
            if "modified" not in item:
                continue
            modified = item["modified"]
            if isinstance(modified, bool) or not isinstance(modified, int):
                not_integer.append(modified)
            elif not 1 <= modified <= MAX_MODIFIED:
                out_of_range.append(modified)
        if not_integer:
            self.add(
                "modified-integer",
                f"{len(not_integer)} item(s) have a modified that is not a JSON integer:"
                f" {examples(not_integer)}.",
                url,
            )
        if out_of_range:
            self.add(
                "modified-range",
                f"{len(out_of_range)} item(s) have a modified outside 1..2**53, which"
                f" JavaScript consumers cannot read exactly: {examples(out_of_range)}.",
                url,
            )

    # Across pages -----------------------------------------------------------------

    def _walk(
        self, url: str, next_url: str | None, items: list[dict[str, t.Any]], is_last: bool
    ) -> None:
        change_numbers = param(url, AFTER_CHANGE_NUMBER) is not None or (
            param(next_url, AFTER_CHANGE_NUMBER) is not None
        )
        requested = cursor_of(url)
        if next_url is not None:
            following = cursor_of(next_url)
            if not is_last and requested is not None and following is not None:
                if following <= requested:
                    same = following == requested and not items
                    self.add(
                        "cursor-increases",
                        f"next ({next_url}) does not move past this page's cursor"
                        + (
                            "; an empty page must either be the last page, with next exactly"
                            " its own URL, or point further on"
                            if same
                            else "; the query must order by modified, then id, and return"
                            " items strictly after the cursor"
                        )
                        + ".",
                        url,
                    )
        # As OpenActive's validator does: the cursor of the latest next (even a missing one).
        self.last_timestamp = param(next_url, AFTER_TIMESTAMP)
        self.last_change_number = param(next_url, AFTER_CHANGE_NUMBER)
        if self.first_after_id is None:
            self.first_after_id = param(next_url, AFTER_ID)
        previous = self._last_key if self._last_key is not None else requested
        disorder = []
        for item in items:
            key: tuple[SortKey, ...] = (value_key(item.get("modified")),)
            if not change_numbers:
                key += (value_key(item.get("id")),)
            if previous is not None and key <= previous:
                disorder.append(item.get("id"))
            previous = key
            self._last_key = key
            self._count(url, item)
        if disorder:
            self.add(
                "ordering",
                f"{len(disorder)} item(s) do not come strictly after the item (or cursor)"
                f" before them in (modified, id) order: ids {examples(disorder)}. Consumers"
                " resuming from a cursor skip or repeat such items.",
                url,
            )

    def _count(self, url: str, item: dict[str, t.Any]) -> None:
        self.items += 1
        if item.get("state") == "deleted":
            self.deleted_items += 1
        item_id = item.get("id")
        self.ids.append(item_id)
        key = (type(item_id).__name__, item_id if isinstance(item_id, str | int) else repr(item_id))
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = url
        else:
            self.add(
                "duplicate-items",
                f"Item {item_id!r} appears again (first on {first}). If the feed was being"
                " written to during the walk this can be an update; otherwise the query"
                " repeats items.",
                url,
            )

    def finish(self) -> None:
        """The rules judged on the whole walk."""
        if self.items and not self.deleted_items:
            self.add(
                "deleted-items",
                "No deleted items in the whole feed: check that deleting a record publishes"
                " a tombstone (state 'deleted') rather than making the item vanish.",
                None,
            )
        for page, following in zip(self.pages, self.pages[1:], strict=False):
            if not page.is_last and not following.is_last and page.items < RECOMMENDED_PAGE_SIZE:
                self.add(
                    "page-size",
                    f"{page.items} item(s) on a page that is not the last; OpenActive recommends"
                    f" {RECOMMENDED_PAGE_SIZE} a page where the database allows.",
                    page.url,
                )
        if self.items and not self.has_openactive_data:
            self.add(
                "openactive-data",
                "No item's data has an @context naming openactive.io; OpenActive's tools"
                " expect Modelling Specification data.",
                None,
            )
