"""The item checker the quality commands run, injected so any checker can stand in."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from .items import LiveItem

__all__ = ["Checker", "Finding", "ItemMessageLike", "findings"]


class ItemMessageLike(t.Protocol):
    """What a checker reports about one item: where, how bad, which rule, and why."""

    @property
    def path(self) -> str: ...
    @property
    def severity(self) -> str: ...  # "failure", "warning" or "suggestion"
    @property
    def rule(self) -> str: ...
    @property
    def message(self) -> str: ...


#: Checks one item's data and reports what is wrong with it.
Checker = Callable[[Mapping[str, t.Any]], Sequence[ItemMessageLike]]


@dataclass(frozen=True)
class Finding:
    """One message about one item: what ``check-items --json`` prints per line."""

    index: int
    id: t.Any
    message: ItemMessageLike

    def as_json(self) -> dict[str, t.Any]:
        """``{"index", "id", "path", "severity", "rule", "message"}``."""
        return {
            "index": self.index,
            "id": self.id,
            "path": self.message.path,
            "severity": self.message.severity,
            "rule": self.message.rule,
            "message": self.message.message,
        }


def findings(items: Iterator[LiveItem], checker: Checker) -> Iterator[Finding]:
    """Every message ``checker`` reports about each of ``items``, in order."""
    for item in items:
        for message in checker(item.data):
            yield Finding(item.index, item.id, message)
