"""Exceptions raised by rpde_publisher."""

from __future__ import annotations

import typing as t

__all__ = [
    "ConfigurationError",
    "InvalidCursorError",
    "ItemDataError",
    "OrganisationMoveError",
    "RPDEError",
]


class RPDEError(Exception):
    """Base class for every error raised by rpde_publisher."""


class ConfigurationError(RPDEError):
    """A feed, a setting or the database is set up in a way that cannot work.

    The message names the setting or argument at fault and how to fix it.
    """


class InvalidCursorError(RPDEError, ValueError):
    """A client sent feed parameters that do not form a valid RPDE cursor.

    Views answer it with ``400 Bad Request`` and a JSON body built from
    :meth:`as_dict`.
    """

    def __init__(self, parameter: str, message: str, expected: str) -> None:
        super().__init__(f"{parameter}: {message}")
        #: The query parameter at fault.
        self.parameter = parameter
        #: What was wrong with it.
        self.message = message
        #: The form the feed expects, in words.
        self.expected = expected

    def as_dict(self) -> dict[str, str]:
        """The error as a JSON-ready mapping."""
        return {
            "error": "invalid_parameter",
            "parameter": self.parameter,
            "message": self.message,
            "expected": self.expected,
        }


class OrganisationMoveError(RPDEError):
    """A feed row would move from one organisation to another in place.

    Raised while flushing (the transaction rolls back) when a row's organisation column
    (``organisation=`` of :meth:`rpde_publisher.RPDE.feed`) changes from one organisation to
    another: the first organisation's consumers would never see the item leave. Delete the
    row (it becomes a tombstone in the first organisation's feed) and add a new one.
    """


class ItemDataError(RPDEError, ValueError):
    """A write rendered an item whose data fails OpenActive's data model.

    Raised only under ``RPDE_ITEM_CHECKS = "error"`` (the default under ``app.testing``):
    the write's transaction is not committed. A consumer's read never raises it.
    """

    def __init__(self, feed: str, item_id: object, failures: list[t.Any]) -> None:
        #: The name of the feed whose item it is.
        self.feed = feed
        #: The item's id.
        self.item_id = item_id
        #: The failures, each an :class:`~rpde_publisher.openactive.checks.ItemMessage`.
        self.failures = failures
        shown = "; ".join(f"{m.path}: {m.message} ({m.rule})" for m in failures[:5])
        more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
        super().__init__(
            f"Item {item_id!r} of feed {feed!r} fails OpenActive's data model: {shown}{more}."
            " Fix the feed's schema or the row (RPDE_ITEM_CHECKS sets what a write does)."
        )
