"""Where harvested items go: a consumer's copy of the feed, kept by upserts and deletes."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from collections.abc import Iterator

from .page import Item
from .page import ItemId

__all__ = ["LocalCopy", "Store", "apply"]


class Store(t.Protocol):
    """What a harvester writes to: implement it over your own database."""

    def upsert(self, item: Item) -> None:
        """Create or replace the item with ``item.id``."""

    def delete(self, item: Item) -> None:
        """Remove the item with ``item.id``, if there is one."""


def apply(store: Store, items: Iterable[Item]) -> None:
    """RPDE's rule for consumers: create or update by id, remove on ``deleted``."""
    for item in items:
        if item.deleted:
            store.delete(item)
        else:
            store.upsert(item)


class LocalCopy:
    """An in-memory copy of one feed: its live items by id."""

    def __init__(self) -> None:
        self._items: dict[ItemId, Item] = {}

    def upsert(self, item: Item) -> None:
        self._items[item.id] = item

    def delete(self, item: Item) -> None:
        self._items.pop(item.id, None)

    def apply(self, items: Iterable[Item]) -> None:
        """Apply a page's items, in order."""
        apply(self, items)

    def get(self, item_id: ItemId) -> Item | None:
        return self._items.get(item_id)

    @property
    def data(self) -> dict[ItemId, dict[str, t.Any]]:
        """Each live item's ``data``, by id."""
        return {item_id: item.data or {} for item_id, item in self._items.items()}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
