"""What makes a table a feed table: its key columns and its ordering, as schema facts."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import UTC

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import false
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from .columns import UTCDateTime

__all__ = [
    "CLOCK_TABLE",
    "FINGERPRINT_TABLE",
    "TOUCH",
    "Ordering",
    "RenderAt",
    "TableSpec",
    "as_column_time",
    "clock_table",
    "fingerprint_table",
    "spec_for",
]

Ordering = t.Literal["modified", "change_number"]
#: When a table's stored data is rendered: by each write, or by the first read after it.
RenderAt = t.Literal["commit", "read"]

#: Writing this value to the ``modified`` column asks the database for a fresh stamp
#: even when nothing else in the row changed ("touch"). Real stamps are positive.
TOUCH = -1

CLOCK_TABLE = "rpde_clock"
FINGERPRINT_TABLE = "rpde_fingerprints"


@dataclass(frozen=True, eq=False)
class TableSpec:
    """The schema facts of one feed table: its key columns and its ordering.

    Kept in ``table.info["rpde"]`` so that change tracking and the DDL find it from the
    table alone. Immutable: ``rpde.feed()`` may put a new one in place (other columns, or
    another ordering) only while no feed publishes the table. How the table's items are
    rendered and stored is not here but in the registry of the extension that publishes
    it (:mod:`~rpde_publisher.registry`).
    """

    table: Table
    id_column: Column[t.Any]
    modified_column: Column[t.Any]
    deleted_column: Column[t.Any]
    data_column: Column[t.Any] | None
    ordering: Ordering = "modified"

    def replaced(self, **changes: t.Any) -> TableSpec:
        """A spec with ``changes``, put in place of this one on the table."""
        spec = replace(self, **changes)
        self.table.info["rpde"] = spec
        return spec

    @property
    def deleted_is_flag(self) -> bool:
        """Whether ``deleted`` is a boolean soft-delete flag (else a timestamp, NULL while
        live). A flag records no time, so its tombstones are never purged."""
        return _is_boolean(self.deleted_column)

    def is_live(self) -> ColumnElement[bool]:
        """SQL: the row is live (not a tombstone)."""
        if self.deleted_is_flag:
            return self.deleted_column.is_not(true())
        return t.cast("ColumnElement[bool]", self.deleted_column.is_(None))

    def is_tombstone(self) -> ColumnElement[bool]:
        """SQL: the row is a tombstone."""
        if self.deleted_is_flag:
            return self.deleted_column.is_(true())
        return self.deleted_column.isnot(None)

    def deleted_before(self, moment: datetime) -> ColumnElement[bool]:
        """SQL: the row became a tombstone before ``moment`` (never, for a flag)."""
        if self.deleted_is_flag:
            return false()
        return t.cast("ColumnElement[bool]", self.deleted_column < self.deleted_value(moment))

    def deleted_value(self, moment: datetime) -> t.Any:
        """What ``deleted`` holds for a row tombstoned at ``moment`` (``True`` for a flag;
        a naive UTC time for a column without a zone)."""
        if self.deleted_is_flag:
            return True
        return as_column_time(self.deleted_column, moment)

    @property
    def live_value(self) -> t.Any:
        """What ``deleted`` holds for a live row."""
        return False if self.deleted_is_flag else None

    @staticmethod
    def value_is_live(value: t.Any) -> bool:
        """Whether a loaded ``deleted`` value means the row is live."""
        return value is None or value is False or value == 0

    def untouched(self, values: dict[str, t.Any]) -> dict[str, t.Any]:
        """``values`` for the toolkit's own ``UPDATE`` of the table, with every app column
        that updates itself (``onupdate=``, MySQL's ``ON UPDATE CURRENT_TIMESTAMP``) set
        to itself: storing an item's data must not change the app's ``updated_at``, nor
        look to the triggers like a change of the item."""
        own = {self.modified_column.name, self.deleted_column.name}
        if self.data_column is not None:
            own.add(self.data_column.name)
        kept = {
            column.name: column
            for column in self.table.columns
            if (column.onupdate is not None or column.server_onupdate is not None)
            and column.name not in own
            and column.name not in values
        }
        return {**values, **kept}

    @property
    def id_is_integer(self) -> bool:
        """Whether item ids are integers (else strings)."""
        try:
            return issubclass(self.id_column.type.python_type, int)
        except NotImplementedError:
            return False


def _is_boolean(column: Column[t.Any]) -> bool:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, Boolean)


def as_column_time(column: t.Any, moment: datetime) -> datetime:
    """``moment`` as ``column`` stores it: aware, or naive UTC for a column without a zone
    (an app's own ``DateTime()``), so that comparisons and writes mean the same instant."""
    type_ = getattr(column, "type", None)
    if isinstance(type_, UTCDateTime):
        return moment  # converts itself
    if isinstance(type_, DateTime) and not type_.timezone and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def spec_for(table: Table) -> TableSpec | None:
    """The feed spec of ``table``, or ``None`` if it is not a feed table."""
    return t.cast("TableSpec | None", table.info.get("rpde"))



def clock_table(metadata: MetaData) -> Table:
    """The one-row table that hands out SQLite's stamps (unused on other databases)."""
    return _toolkit_table(
        metadata,
        CLOCK_TABLE,
        [
            Column("id", Integer, primary_key=True, autoincrement=False),
            Column("value", BigInteger, nullable=False),
        ],
        "Change counter for rpde_publisher feeds on SQLite.",
    )


def fingerprint_table(metadata: MetaData) -> Table:
    """What the feeds were rendered, filtered and stamped with, one row per ``kind:name``
    key (see :mod:`~rpde_publisher.fingerprints`)."""
    return _toolkit_table(
        metadata,
        FINGERPRINT_TABLE,
        [
            Column("key", String(255), primary_key=True),
            Column("value", String(64), nullable=False),
            Column("recorded_at", UTCDateTime(), nullable=False),
        ],
        "What rpde_publisher feeds were rendered, filtered and stamped with.",
    )


def _toolkit_table(
    metadata: MetaData, name: str, columns: list[Column[t.Any]], comment: str
) -> Table:
    """One of the toolkit's own tables in ``metadata``, made once."""
    existing = metadata.tables.get(name)
    if existing is not None:
        return existing
    return Table(name, metadata, *columns, comment=comment)
