"""Drop empty values from JSON data: OpenActive's validators fail a document holding one."""

from __future__ import annotations

import typing as t

__all__ = ["prune"]


def prune(value: t.Any, *, bare_types_are_empty: bool = False) -> t.Any:
    """``value`` without ``None``, ``""``, ``[]`` or ``{}`` at any depth.

    With ``bare_types_are_empty``, an object left with its ``@type`` alone (a publisher
    whose settings are all unset) is dropped too.
    """
    if isinstance(value, dict):
        pruned = {
            key: prune(item, bare_types_are_empty=bare_types_are_empty)
            for key, item in value.items()
        }
        return {
            key: item for key, item in pruned.items() if not _is_empty(item, bare_types_are_empty)
        }
    if isinstance(value, list):
        items = [prune(item, bare_types_are_empty=bare_types_are_empty) for item in value]
        return [item for item in items if not _is_empty(item, bare_types_are_empty)]
    return value


def _is_empty(value: t.Any, bare_types_are_empty: bool) -> bool:
    if bare_types_are_empty and isinstance(value, dict) and set(value) <= {"@type"}:
        return True
    return value is None or value == "" or value == [] or value == {}
