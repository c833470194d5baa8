"""The backend protocol: what each database provides to the feeds, and shared DDL helpers."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from ..tables import TableSpec

__all__ = ["Backend", "Identifiers", "Lag", "TriggerDDL", "identifiers", "object_name", "quoted"]


@dataclass(frozen=True)
class Lag:
    """How far the visible feed is behind the database at one moment."""

    #: Committed changes the feed does not show yet.
    hidden_changes: int
    #: Age in seconds of what holds them back (the oldest open write transaction, or
    #: the settle lag); ``0.0`` when nothing does.
    seconds: float
    #: What holds them back, in words.
    reason: str


class Backend(t.Protocol):
    """What each supported database provides to the feeds, and the rules it needs."""

    #: Short name used in messages and docs.
    name: str
    #: Whether writers and renders lock rows (``FOR UPDATE``, ``FOR SHARE``); SQLite lets
    #: one transaction write at a time instead, and takes none.
    takes_row_locks: bool
    #: Whether a write's stamps are taken again just before it commits: clock stamps,
    #: shown after a settle lag, must not be as old as the longest lock wait.
    restamps_at_commit: bool
    #: The isolation level feeds with embedded rows need, if the default will not do.
    required_isolation: str | None
    #: Whether the planner enters an index at a row-value comparison ``(a, b) > (x, y)``.
    compares_row_values: bool

    def guard_store(self, connection: Connection, spec: TableSpec) -> t.ContextManager[None]:
        """Within the block, a read storing data it rendered cannot wait long for a
        writer, nor have one commit between its render and its store."""

    def ddl(self, spec: TableSpec, dialect: Dialect) -> list[str]:
        """The statements that install stamping and tombstones for ``spec``'s table."""

    def prepare(self, spec: TableSpec, connection: Connection) -> None:
        """Create what the triggers use besides themselves (SQLite's clock table)."""

    def install(self, spec: TableSpec, connection: Connection) -> None:
        """Create or replace the triggers (and functions) for ``spec``'s table."""

    def uninstall(self, spec: TableSpec, connection: Connection) -> None:
        """Remove what :meth:`install` created and the table does not drop with it."""

    def is_installed(self, spec: TableSpec, connection: Connection) -> bool:
        """Whether the triggers for ``spec``'s table are in the database."""

    def visible(self, spec: TableSpec, settle_seconds: float) -> ColumnElement[bool] | None:
        """A criterion on the table keeping back rows that may still be overtaken."""

    def lag(self, spec: TableSpec, connection: Connection, settle_seconds: float) -> Lag:
        """How far the visible feed of ``spec``'s table lags behind the database."""

    def statement_timeout(self, connection: Connection, seconds: float) -> t.ContextManager[None]:
        """Within the block, statements on ``connection`` fail after ``seconds``."""

    @staticmethod
    def is_schema_error(error: BaseException) -> bool:
        """Whether ``error`` (a ``DBAPIError``) says a table or column does not exist."""


class TriggerDDL:
    """What backends share: the rules of a database with row locks, and the install of
    its :meth:`ddl` statement by statement. A backend overrides what differs."""

    takes_row_locks = True
    restamps_at_commit = False
    required_isolation: str | None = None
    compares_row_values = True

    @contextmanager
    def guard_store(self, connection: Connection, spec: TableSpec) -> Iterator[None]:
        """Nothing to do where the store locks its rows without waiting."""
        yield

    def ddl(self, spec: TableSpec, dialect: Dialect) -> list[str]:
        raise NotImplementedError

    def install(self, spec: TableSpec, connection: Connection) -> None:
        """Create or replace the triggers (and functions) for ``spec``'s table."""
        for statement in self.ddl(spec, connection.dialect):
            connection.exec_driver_sql(statement)

    def uninstall(self, spec: TableSpec, connection: Connection) -> None:
        """Triggers go with their table; nothing else to remove."""


@dataclass(frozen=True)
class Identifiers:
    """A feed table's names, quoted for one dialect, for writing its triggers."""

    table: str
    modified: str
    deleted: str
    id: str
    data: str | None
    dialect: Dialect
    #: Whether ``deleted`` is a boolean flag (see :attr:`TableSpec.deleted_is_flag`).
    deleted_is_flag: bool = False

    def quote(self, name: str) -> str:
        return quoted(self.dialect, name)

    def is_tombstone(self, row: str) -> str:
        """SQL: ``row`` (``NEW`` or ``OLD``) is a tombstone."""
        if self.deleted_is_flag:
            return f"{row}.{self.deleted} IS TRUE"
        return f"{row}.{self.deleted} IS NOT NULL"

    def is_live(self, row: str) -> str:
        """SQL: ``row`` (``NEW`` or ``OLD``) is live."""
        if self.deleted_is_flag:
            return f"{row}.{self.deleted} IS NOT TRUE"
        return f"{row}.{self.deleted} IS NULL"

    def tombstone_value(self, now: str) -> str:
        """SQL: what a trigger writes to ``deleted`` to tombstone a row (``now`` for a
        timestamp)."""
        if not self.deleted_is_flag:
            return now
        return "TRUE" if self.dialect.name == "postgresql" else "1"


def identifiers(spec: TableSpec, dialect: Dialect) -> Identifiers:
    """``spec``'s table and feed columns, quoted for ``dialect``."""
    return Identifiers(
        table=dialect.identifier_preparer.format_table(spec.table),
        modified=quoted(dialect, spec.modified_column.name),
        deleted=quoted(dialect, spec.deleted_column.name),
        id=quoted(dialect, spec.id_column.name),
        data=quoted(dialect, spec.data_column.name) if spec.data_column is not None else None,
        dialect=dialect,
        deleted_is_flag=spec.deleted_is_flag,
    )


def quoted(dialect: Dialect, name: str) -> str:
    """``name`` quoted as an identifier for ``dialect``."""
    return dialect.identifier_preparer.quote(name)


def object_name(prefix: str, spec: TableSpec, suffix: str = "") -> str:
    """A trigger or function name derived from the table, within 63 characters."""
    table = spec.table.name
    name = f"{prefix}_{table}{suffix}"
    if len(name) > 63:
        import hashlib

        digest = hashlib.sha1(table.encode()).hexdigest()[:10]
        name = f"{prefix}_{table[: 63 - len(prefix) - len(suffix) - 12]}_{digest}{suffix}"
    return name
