"""Check one item's data against OpenActive's data models: ``check_item``."""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from .check_rules import ItemMessage
from .check_rules import walk_item
from .vocabulary import default_vocabularies
from .vocabulary import Vocabularies

__all__ = ["ItemMessage", "Vocabularies", "check_item"]


def check_item(
    data: Mapping[str, t.Any], *, vocabularies: Vocabularies | None = None
) -> list[ItemMessage]:
    """The messages for one RPDE item's ``data``; its ``@type`` picks the model.

    ``vocabularies`` holds the activity list and facility types; None uses the process's
    defaults (see :func:`~rpde_publisher.openactive.vocabulary.default_vocabularies`).
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"an item's data is a JSON object, not {type(data).__name__}")
    return walk_item(data, vocabularies if vocabularies is not None else default_vocabularies())
