"""PostgreSQL: stamps from the writing transaction's id, shown only below the snapshot's xmin.

A row's ``modified`` is the id (``xid8``) of the transaction that last wrote it. The feed
shows a row only once every transaction with a smaller id has ended, that is below
``pg_snapshot_xmin(pg_current_snapshot())``. Anything that becomes visible later was
written by a transaction at or above that watermark, so its ``modified`` is above every
value a consumer can already hold: the feed cannot skip an item, whatever the writers do.
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

from ..tables import TableSpec
from .base import identifiers
from .base import Lag
from .base import object_name
from .base import quoted
from .base import TriggerDDL

__all__ = ["COUNTER_BITS", "PostgreSQLBackend"]

# Change numbers pack the transaction id above a per-transaction counter so that each
# change gets its own number and numbers still follow the transaction ids.
COUNTER_BITS = 20
_XID = "pg_current_xact_id()::text::bigint"
_XMIN = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

_CHANGE_NUMBER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION rpde_change_number() RETURNS bigint
LANGUAGE plpgsql AS $rpde$
DECLARE
  xid bigint := {_XID};
  counter bigint :=
    coalesce(nullif(current_setting('rpde.change_counter', true), ''), '0')::bigint + 1;
BEGIN
  IF counter >= {1 << COUNTER_BITS} THEN
    RAISE EXCEPTION
      'rpde_publisher: at most {(1 << COUNTER_BITS) - 1} changes to change-number feeds'
      ' per transaction';
  END IF;
  IF xid >= {1 << (53 - COUNTER_BITS)} THEN
    RAISE EXCEPTION 'rpde_publisher: transaction ids outgrew change numbers; use modified ordering';
  END IF;
  PERFORM set_config('rpde.change_counter', counter::text, true);
  RETURN (xid << {COUNTER_BITS}) | counter;
END
$rpde$
"""


class PostgreSQLBackend(TriggerDDL):
    """Transaction-id stamps and the snapshot watermark (see the module docstring)."""

    name = "PostgreSQL"

    def ddl(self, spec: TableSpec, dialect: Dialect) -> list[str]:
        names = identifiers(spec, dialect)
        q, table, m, deleted, pk = names.quote, names.table, names.modified, names.deleted, names.id
        stamp_fn = q(object_name("rpde_stamp", spec))
        tombstone_fn = q(object_name("rpde_tombstone", spec))
        stamp = "rpde_change_number()" if spec.ordering == "change_number" else _XID
        if spec.data_column is not None:
            d = names.data
            declare = f"new_modified bigint := NEW.{m};\n  new_data text := NEW.{d};"
            mask = f"NEW.{m} := OLD.{m};\n    NEW.{d} := OLD.{d};"
            unmask = f"NEW.{m} := new_modified;\n    NEW.{d} := new_data;"
            # Only the data changing (stored by a read, see rpde_publisher.store) is
            # not a change of the item: no fresh stamp.
            unchanged = f"NEW.{m} IS NOT DISTINCT FROM OLD.{m}"
            # Data the renderer did not write is stale once other columns change.
            stale = f"""IF other_changed AND NEW.{d} IS NOT DISTINCT FROM OLD.{d} THEN
      NEW.{d} := NULL;
    END IF;"""
            tombstone_data = f"IF {names.is_tombstone('NEW')} THEN NEW.{d} := NULL; END IF;"
        else:
            declare = f"new_modified bigint := NEW.{m};"
            mask = f"NEW.{m} := OLD.{m};"
            unmask = f"NEW.{m} := new_modified;"
            unchanged = f"NEW.{m} IS NOT DISTINCT FROM OLD.{m}"
            stale = tombstone_data = ""
        statements = []
        if spec.ordering == "change_number":
            statements.append(_CHANGE_NUMBER_FUNCTION)
        statements += [
            f"""
CREATE OR REPLACE FUNCTION {stamp_fn}() RETURNS trigger
LANGUAGE plpgsql AS $rpde$
DECLARE
  {declare}
  other_changed boolean;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    {mask}
    other_changed := NEW *<> OLD;
    {unmask}
    IF NOT other_changed AND {unchanged} THEN
      RETURN NEW;
    END IF;
    {stale}
  END IF;
  {tombstone_data}
  NEW.{m} := {stamp};
  RETURN NEW;
END
$rpde$""",
            f"""
CREATE OR REPLACE FUNCTION {tombstone_fn}() RETURNS trigger
LANGUAGE plpgsql AS $rpde$
BEGIN
  IF {names.is_tombstone('OLD')} THEN
    RETURN OLD;
  END IF;
  UPDATE {table} SET {deleted} = {names.tombstone_value("now()")} WHERE {pk} = OLD.{pk};
  RETURN NULL;
END
$rpde$""",
            f"DROP TRIGGER IF EXISTS rpde_stamp ON {table}",
            f"CREATE TRIGGER rpde_stamp BEFORE INSERT OR UPDATE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {stamp_fn}()",
            f"DROP TRIGGER IF EXISTS rpde_tombstone ON {table}",
            f"CREATE TRIGGER rpde_tombstone BEFORE DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {tombstone_fn}()",
        ]
        return statements

    def prepare(self, spec: TableSpec, connection: Connection) -> None:
        """Nothing besides the triggers is needed."""

    def uninstall(self, spec: TableSpec, connection: Connection) -> None:
        for prefix in ("rpde_stamp", "rpde_tombstone"):
            name = quoted(connection.dialect, object_name(prefix, spec))
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}() CASCADE")

    def is_installed(self, spec: TableSpec, connection: Connection) -> bool:
        found = connection.execute(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(:table)"
                " AND tgname IN ('rpde_stamp', 'rpde_tombstone') AND NOT tgisinternal"
            ),
            {"table": connection.dialect.identifier_preparer.format_table(spec.table)},
        ).scalar_one()
        return bool(found == 2)

    def visible(self, spec: TableSpec, settle_seconds: float) -> ColumnElement[bool]:
        return spec.modified_column < self._watermark(spec)

    def lag(self, spec: TableSpec, connection: Connection, settle_seconds: float) -> Lag:
        hidden = connection.execute(
            select(func.count()).where(spec.modified_column >= self._watermark(spec))
        ).scalar_one()
        oldest = connection.execute(
            text(
                "SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)"
                " FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
                " AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        reason = (
            "an open write transaction holds the feed back until it ends"
            if hidden
            else "nothing holds the feed back"
        )
        return Lag(hidden_changes=int(hidden), seconds=float(oldest or 0.0), reason=reason)

    @contextmanager
    def statement_timeout(self, connection: Connection, seconds: float) -> Iterator[None]:
        # LOCAL: the setting ends with the read's own transaction.
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
        yield

    @staticmethod
    def is_schema_error(error: BaseException) -> bool:
        # undefined_column, undefined_table
        return getattr(getattr(error, "orig", None), "sqlstate", None) in ("42703", "42P01")

    @staticmethod
    def _watermark(spec: TableSpec) -> ColumnElement[int]:
        if spec.ordering == "change_number":
            return literal_column(f"({_XMIN} << {COUNTER_BITS})")
        return literal_column(_XMIN)
