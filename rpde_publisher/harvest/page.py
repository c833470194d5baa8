"""An RPDE page as a consumer reads it: the items, ``next``, and whether it is the last page."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from urllib.parse import urljoin

from .errors import InvalidPage
from .errors import NotJSON

__all__ = ["Item", "ItemId", "Page", "parse_page"]

#: An item id: RPDE allows a JSON string or number.
ItemId = int | str


@dataclass(frozen=True)
class Item:
    """One RPDE item."""

    id: ItemId
    kind: str
    #: ``"updated"`` or ``"deleted"``.
    state: str
    #: The item's ``modified``: an integer in a well-behaved feed.
    modified: int | str
    #: The item's data; ``None`` for a deleted item.
    data: dict[str, t.Any] | None

    @property
    def deleted(self) -> bool:
        return self.state == "deleted"


@dataclass(frozen=True)
class Page:
    """One page of a feed, as fetched from ``url``."""

    url: str
    #: The absolute URL of the next page.
    next: str
    items: list[Item]
    license: str | None

    @property
    def is_last(self) -> bool:
        """RPDE's last page: no items, and ``next`` is the page's own URL."""
        return not self.items and self.next == self.url


def parse_page(url: str, body: bytes) -> Page:
    """The page in ``body``, fetched from ``url``; :exc:`InvalidPage` if it is not one."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        excerpt = body[:80].decode("utf-8", "replace")
        raise NotJSON(url, f"the response is not JSON (it starts {excerpt!r})") from None
    if not isinstance(document, dict):
        raise InvalidPage(url, f"the response is JSON {type(document).__name__}, not an object")
    next_url = document.get("next")
    if not isinstance(next_url, str) or not next_url:
        raise InvalidPage(url, "the page has no 'next' URL")
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        raise InvalidPage(url, "the page has no 'items' array")
    items = [_item(url, position, raw) for position, raw in enumerate(raw_items)]
    next_url = urljoin(url, next_url)  # RPDE requires absolute URLs; be lenient reading them
    if items and next_url == url:
        raise InvalidPage(
            url, "a page with items has itself as 'next'; following it would never end"
        )
    license = document.get("license")
    return Page(url, next_url, items, license if isinstance(license, str) else None)


def _item(url: str, position: int, raw: t.Any) -> Item:
    where = f"item {position}"
    if not isinstance(raw, dict):
        raise InvalidPage(url, f"{where} is not an object")
    state = raw.get("state")
    if state not in ("updated", "deleted"):
        raise InvalidPage(url, f"{where} has state {state!r}, not 'updated' or 'deleted'")
    item_id = raw.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, int | str):
        raise InvalidPage(url, f"{where} has no string or integer 'id'")
    modified = raw.get("modified")
    if isinstance(modified, bool) or not isinstance(modified, int | str):
        raise InvalidPage(url, f"{where} (id {item_id!r}) has no integer or string 'modified'")
    kind = raw.get("kind")
    if not isinstance(kind, str):
        raise InvalidPage(url, f"{where} (id {item_id!r}) has no 'kind'")
    data = raw.get("data")
    if state == "updated" and not isinstance(data, dict):
        raise InvalidPage(url, f"{where} (id {item_id!r}) is 'updated' but has no 'data' object")
    return Item(item_id, kind, state, modified, data if state == "updated" else None)
