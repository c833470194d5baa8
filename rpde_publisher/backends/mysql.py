"""MySQL and MariaDB: microsecond stamps from the database clock, shown after a settle lag.

These databases cannot tell which transactions are still in flight, so a change is
shown only once its stamp is ``RPDE_SETTLE_SECONDS`` old (OpenActive's advice). A write
transaction that stays open longer than the lag can still commit rows below a cursor a
consumer holds: keep write transactions short, or use PostgreSQL. Change-number feeds
are stamped from a locked counter instead (see ``_BUMP_COUNTER``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import text
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

__all__ = ["MySQLBackend"]

_NOW_MICROS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))"
# Change numbers must be unique, which the clock is not: they come from a counter row
# that each writer locks until it commits, so they are also handed out in commit order
# and need no settle lag. The price is that writers to change-number feeds take turns.
_BUMP_COUNTER = (
    f"INSERT INTO {CLOCK_TABLE} (id, value) VALUES (1, LAST_INSERT_ID(1))"
    " ON DUPLICATE KEY UPDATE value = LAST_INSERT_ID(value + 1)"
)


class MySQLBackend(TriggerDDL):
    """Clock stamps and the settle lag (see the module docstring)."""

    name = "MySQL/MariaDB"
    restamps_at_commit = True
    required_isolation: str | None = "READ COMMITTED"
    compares_row_values = False

    def ddl(self, spec: TableSpec, dialect: Dialect) -> list[str]:
        names = identifiers(spec, dialect)
        q, table, m = names.quote, names.table, names.modified
        others = [
            c
            for c in spec.table.columns
            if c is not spec.modified_column and c is not spec.data_column
        ]
        others_same = " AND ".join(f"NEW.{q(c.name)} <=> OLD.{q(c.name)}" for c in others)
        # Only the data changing (stored by a read, see rpde_publisher.store) is not a
        # change of the item: no fresh stamp.
        all_same = f"NEW.{m} <=> OLD.{m} AND {others_same}"
        stale = ""
        if spec.data_column is not None:
            d = names.data
            stale = f"""
    IF {names.is_tombstone('NEW')} OR (NOT ({others_same}) AND NEW.{d} <=> OLD.{d}) THEN
      SET NEW.{d} = NULL;
    END IF;"""
        insert_name = q(object_name("rpde", spec, "_insert"))
        update_name = q(object_name("rpde", spec, "_update"))
        if spec.ordering == "change_number":
            stamp = f"{_BUMP_COUNTER};\n    SET NEW.{m} = LAST_INSERT_ID();"
        else:
            stamp = f"SET NEW.{m} = {_NOW_MICROS};"
        return [
            f"DROP TRIGGER IF EXISTS {insert_name}",
            f"""CREATE TRIGGER {insert_name} BEFORE INSERT ON {table} FOR EACH ROW
BEGIN
    {stamp}
END""",
            f"DROP TRIGGER IF EXISTS {update_name}",
            f"""CREATE TRIGGER {update_name} BEFORE UPDATE ON {table} FOR EACH ROW
BEGIN
  IF NOT ({all_same}) THEN{stale}
    {stamp}
  END IF;
END""",
        ]

    def prepare(self, spec: TableSpec, connection: Connection) -> None:
        if spec.ordering == "change_number":
            clock_table(spec.table.metadata).create(connection, checkfirst=True)

    def is_installed(self, spec: TableSpec, connection: Connection) -> bool:
        names = [object_name("rpde", spec, suffix) for suffix in ("_insert", "_update")]
        found = connection.execute(
            text(
                "SELECT count(*) FROM information_schema.triggers"
                " WHERE trigger_schema = DATABASE() AND trigger_name IN (:a, :b)"
            ),
            {"a": names[0], "b": names[1]},
        ).scalar_one()
        return bool(found == 2)

    def visible(self, spec: TableSpec, settle_seconds: float) -> ColumnElement[bool] | None:
        if spec.ordering == "change_number":
            return None  # counter stamps follow commit order
        return spec.modified_column < self._watermark(settle_seconds)

    def lag(self, spec: TableSpec, connection: Connection, settle_seconds: float) -> Lag:
        if spec.ordering == "change_number":
            return Lag(0, 0.0, "change numbers are handed out in commit order")
        hidden = connection.execute(
            select(func.count()).where(spec.modified_column >= self._watermark(settle_seconds))
        ).scalar_one()
        return Lag(
            hidden_changes=int(hidden),
            seconds=settle_seconds,
            reason=f"changes settle for RPDE_SETTLE_SECONDS={settle_seconds:g} before they show",
        )

    @contextmanager
    def statement_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        variable = "max_statement_time" if mariadb else "max_execution_time"
        value = f"{seconds:.3f}" if mariadb else str(int(seconds * 1000))
        connection.exec_driver_sql(f"SET SESSION {variable} = {value}")
        try:
            yield
        finally:  # pooled connections must not keep the limit for the app's own queries
            try:
                connection.exec_driver_sql(f"SET SESSION {variable} = 0")
            except Exception:
                connection.invalidate()

    @staticmethod
    def is_schema_error(error: BaseException) -> bool:
        # ER_BAD_FIELD_ERROR, ER_NO_SUCH_TABLE
        args: tuple[object, ...] = getattr(getattr(error, "orig", None), "args", ())
        return bool(args) and args[0] in (1054, 1146)

    @staticmethod
    def _watermark(settle_seconds: float) -> ColumnElement[int]:
        return literal_column(f"({_NOW_MICROS} - {int(settle_seconds * 1_000_000)})")
