"""SQLite: stamps from a counter bumped inside the write, under SQLite's single write lock.

SQLite lets one writer at a time change the database, from its first write until it
commits, so a counter read and bumped inside the writing statement hands out numbers in
commit order: nothing can appear below a number a consumer has already seen.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import false
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from ..tables import CLOCK_TABLE
from ..tables import clock_table
from ..tables import TableSpec
from .base import identifiers
from .base import Lag
from .base import object_name
from .base import TriggerDDL

__all__ = ["STORE_BUSY_MILLISECONDS", "SQLiteBackend"]

_BUMP = (
    f"INSERT INTO {CLOCK_TABLE} (id, value) VALUES (1, 1)"
    " ON CONFLICT (id) DO UPDATE SET value = value + 1;"
)
_CLOCK = f"(SELECT value FROM {CLOCK_TABLE} WHERE id = 1)"
#: How long a read storing rendered data waits for another writer before giving up.
STORE_BUSY_MILLISECONDS = 50
# The same format SQLAlchemy writes, so the ORM reads trigger-made tombstones back.
_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


class SQLiteBackend(TriggerDDL):
    """Counter stamps taken under the write lock (see the module docstring)."""

    name = "SQLite"
    takes_row_locks = False

    @contextmanager
    def guard_store(self, connection: Connection, spec: TableSpec) -> Iterator[None]:
        # Wait for another writer only briefly, then hold SQLite's write lock, so that no
        # writer commits between render and store (a write matching no row takes it; the
        # SELECTs alone would take none).
        previous = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {STORE_BUSY_MILLISECONDS}")
        try:
            if spec.data_column is not None:
                connection.execute(
                    update(spec.table)
                    .where(false())
                    .values(spec.untouched({spec.data_column.name: None}))
                )
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous or 0)}")

    def ddl(self, spec: TableSpec, dialect: Dialect) -> list[str]:
        names = identifiers(spec, dialect)
        q, table, m, deleted, pk = names.quote, names.table, names.modified, names.deleted, names.id
        others = [
            c
            for c in spec.table.columns
            if c is not spec.modified_column and c is not spec.data_column
        ]
        other_changed = " OR ".join(f"NEW.{q(c.name)} IS NOT OLD.{q(c.name)}" for c in others)
        set_data = ""
        if spec.data_column is not None:
            d = names.data
            set_data = (
                f", {d} = CASE WHEN {names.is_tombstone('NEW')} THEN NULL"
                f" WHEN ({other_changed}) AND NEW.{d} IS OLD.{d} THEN NULL ELSE NEW.{d} END"
            )
        triggers = {
            suffix: q(object_name("rpde", spec, suffix))
            for suffix in ("_insert", "_update", "_delete")
        }
        return [
            *(f"DROP TRIGGER IF EXISTS {name}" for name in triggers.values()),
            f"""CREATE TRIGGER {triggers["_insert"]} AFTER INSERT ON {table}
BEGIN
  {_BUMP}
  UPDATE {table} SET {m} = {_CLOCK} WHERE {pk} = NEW.{pk};
END""",
            # The last condition keeps the trigger's own UPDATE (which moves the stamp
            # from a past value onto the counter's fresh one) from firing it again if
            # the app turned recursive triggers on. A user's UPDATE of the row stamped
            # most recently (its stamp already equal to the counter) must still fire.
            # Only the data changing (stored by a read, see rpde_publisher.store) is
            # not a change of the item: no fresh stamp.
            f"""CREATE TRIGGER {triggers["_update"]} AFTER UPDATE ON {table}
WHEN (NEW.{m} IS NOT OLD.{m} OR {other_changed})
  AND NOT (NEW.{m} IS {_CLOCK} AND OLD.{m} IS NOT {_CLOCK})
BEGIN
  {_BUMP}
  UPDATE {table} SET {m} = {_CLOCK}{set_data} WHERE {pk} = NEW.{pk};
END""",
            f"""CREATE TRIGGER {triggers["_delete"]} BEFORE DELETE ON {table}
WHEN {names.is_live('OLD')}
BEGIN
  UPDATE {table} SET {deleted} = {names.tombstone_value(_NOW)} WHERE {pk} = OLD.{pk};
  SELECT RAISE(IGNORE);
END""",
        ]

    def prepare(self, spec: TableSpec, connection: Connection) -> None:
        clock_table(spec.table.metadata).create(connection, checkfirst=True)

    def is_installed(self, spec: TableSpec, connection: Connection) -> bool:
        names = [object_name("rpde", spec, suffix) for suffix in ("_insert", "_update", "_delete")]
        found = connection.execute(
            text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (:a, :b, :c)"
            ),
            dict(zip("abc", names, strict=True)),
        ).scalar_one()
        return bool(found == 3)

    def visible(self, spec: TableSpec, settle_seconds: float) -> ColumnElement[bool] | None:
        return None

    @contextmanager
    def statement_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        # SQLite runs in-process: a progress handler aborts a statement past its deadline.
        deadline = time.monotonic() + seconds
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        dbapi.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            yield
        finally:
            dbapi.set_progress_handler(None, 0)

    @staticmethod
    def is_schema_error(error: BaseException) -> bool:
        message = str(getattr(error, "orig", "")).lower()
        return isinstance(getattr(error, "orig", None), sqlite3.OperationalError) and (
            message.startswith(("no such column", "no such table"))
        )

    def lag(self, spec: TableSpec, connection: Connection, settle_seconds: float) -> Lag:
        return Lag(0, 0.0, "SQLite commits in stamp order; nothing holds the feed back")
