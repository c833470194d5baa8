"""Making tables feed tables: their index and triggers, and adopting an existing database."""

from __future__ import annotations

import typing as t

from sqlalchemy import Column
from sqlalchemy import event
from sqlalchemy import Index
from sqlalchemy import inspect
from sqlalchemy import Table
from sqlalchemy.dialects import registry
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateColumn

from .backends import backend_for
from .errors import ConfigurationError
from .fingerprints import record
from .fingerprints import triggers_fingerprint
from .fingerprints import triggers_key
from .tables import clock_table
from .tables import fingerprint_table
from .tables import spec_for
from .tables import TableSpec

__all__ = [
    "add_columns",
    "install_spec_triggers",
    "install_triggers",
    "missing_columns",
    "prepare_table",
    "trigger_sql",
]


def _spec(model_or_table: t.Any) -> TableSpec:
    table = (
        model_or_table if isinstance(model_or_table, Table) else inspect(model_or_table).local_table
    )
    spec = spec_for(table)
    if spec is None:
        raise ConfigurationError(
            f"{model_or_table!r} is not a feed table: add FeedMixin or register it with"
            " rpde.feed()."
        )
    return spec


def trigger_sql(model_or_table: t.Any, dialect: str | Dialect) -> list[str]:
    """The statements that install stamping and tombstones on a feed's table.

    ``dialect`` is a dialect or its name (``"postgresql"``, ``"sqlite"``, ``"mysql"``).
    Use the statements with ``op.execute()`` in an offline Alembic migration, after the
    columns and the ``(modified, id)`` index exist (:func:`add_columns` does all three
    online, and records what it installed). Register feeds (``rpde.feed()``) before
    generating them: the feed's ordering decides how PostgreSQL stamps rows.
    """
    resolved: Dialect = registry.load(dialect)() if isinstance(dialect, str) else dialect
    return backend_for(resolved).ddl(_spec(model_or_table), resolved)


def missing_columns(connection: Connection, model_or_table: t.Any) -> list[str] | None:
    """The columns the model declares that its table in the database lacks (the feed's own
    among them); ``None`` if the table itself is missing."""
    table = _spec(model_or_table).table
    inspector = inspect(connection)
    if not inspector.has_table(table.name, schema=table.schema):
        return None
    present = {column["name"] for column in inspector.get_columns(table.name, schema=table.schema)}
    return [column.name for column in table.columns if column.name not in present]


def install_triggers(connection: Connection, model_or_table: t.Any) -> None:
    """Install the triggers of a feed's table on ``connection`` (e.g. ``op.get_bind()``).

    Refuses (:exc:`~rpde_publisher.ConfigurationError`) while the table lacks a column the
    model declares: a trigger naming a missing column would make every write to the table
    fail, the app's own included.
    """
    spec = _spec(model_or_table)
    missing = missing_columns(connection, spec.table)
    if missing is None or missing:
        what = "does not exist" if missing is None else f"has no column {', '.join(missing)}"
        raise ConfigurationError(
            f"Not installing triggers: table {spec.table.name!r} {what} in the database."
            " Add the columns first: `flask rpde adopt`, or"
            " rpde_publisher.migration.add_columns() in a migration."
        )
    install_spec_triggers(connection, spec)


def add_columns(connection: Connection, model_or_table: t.Any) -> list[str]:
    """Add what a feed needs to its existing table, in a safe order: the feed's columns,
    then the ``(modified, id)`` index, then the triggers (recorded as installed).

    Safe to run again: it adds only what is missing, and replaces the triggers. The
    app's writes keep working at every step. Existing rows get ``modified = 0``: run
    ``flask rpde backfill`` afterwards so that the feed shows them. Returns what it did,
    in words.
    """
    spec = _spec(model_or_table)
    table = spec.table
    missing = missing_columns(connection, table)
    if missing is None:
        raise ConfigurationError(
            f"Table {table.name!r} does not exist in the database: create it"
            " (metadata.create_all() makes a new table complete, triggers included)."
        )
    feed_columns = [spec.modified_column, spec.deleted_column, spec.data_column]
    own = [column for column in feed_columns if column is not None and column.name in missing]
    others = [name for name in missing if name not in {column.name for column in own}]
    if others:
        raise ConfigurationError(
            f"Table {table.name!r} lacks column(s) {', '.join(others)} that the model declares"
            " and that are not the feed's: add them with your app's own migration first."
        )
    done = []
    preparer = connection.dialect.identifier_preparer
    for column in own:
        definition = CreateColumn(column).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {preparer.format_table(table)} ADD {definition}")
        done.append(f"added column {column.name}")
    for index in table.indexes:
        names = [column.name for column in index.columns]
        if names[:2] == [spec.modified_column.name, spec.id_column.name]:
            existing = {
                i["name"] for i in inspect(connection).get_indexes(table.name, table.schema)
            }
            if index.name not in existing:
                index.create(connection)
                done.append(f"created index {index.name}")
            break
    install_spec_triggers(connection, spec)
    done.append("installed triggers")
    return done


def install_spec_triggers(connection: Connection, spec: TableSpec, *, prepare: bool = True) -> None:
    """Create or replace ``spec``'s triggers and record which ones (see
    :mod:`~rpde_publisher.fingerprints`)."""
    backend = backend_for(connection.dialect)
    if prepare:
        backend.prepare(spec, connection)
    backend.install(spec, connection)
    statements = backend.ddl(spec, connection.dialect)
    record(connection, {triggers_key(spec.table): triggers_fingerprint(statements)})


def prepare_table(
    table: Table,
    *,
    modified: str = "modified",
    deleted: str = "deleted",
    data: str | None = "rpde_data",
) -> TableSpec:
    """Make ``table`` a feed table: index, database triggers on create, change tracking.

    Safe to call more than once; the first call's columns win.
    """
    existing = spec_for(table)
    if existing is not None:
        return existing
    primary_key = list(table.primary_key.columns)
    if len(primary_key) != 1:
        raise ConfigurationError(
            f"Table {table.name!r} needs a single-column primary key to be a feed: the"
            " primary key is the RPDE item id."
        )
    spec = TableSpec(
        table=table,
        id_column=primary_key[0],
        modified_column=_column(table, modified, "modified"),
        deleted_column=_column(table, deleted, "deleted"),
        data_column=_column(table, data, "data") if data is not None else None,
    )
    table.info["rpde"] = spec
    _ensure_order_index(spec)
    clock_table(table.metadata)
    # Created first by create_all: the table's creation records its triggers there.
    table.add_is_dependent_on(fingerprint_table(table.metadata))
    event.listen(table, "after_create", _install_after_create)
    event.listen(table, "after_drop", _uninstall_after_drop)
    return spec



def _column(table: Table, name: str, role: str) -> Column[t.Any]:
    try:
        return table.c[name]
    except KeyError:
        hint = (
            " (a Text column, deferred: mapped_column(Text, deferred=True)), or pass"
            " data=None to render each item on every read"
            if role == "data"
            else ""
        )
        raise ConfigurationError(
            f"Table {table.name!r} has no column {name!r} for the feed's {role} value; add"
            f" FeedMixin to the model, or declare the column{hint}, or pass {role}=<column>"
            " to rpde.feed()."
        ) from None



def _ensure_order_index(spec: TableSpec) -> None:
    wanted = [spec.modified_column.name, spec.id_column.name]
    for index in spec.table.indexes:
        if [column.name for column in index.columns][:2] == wanted:
            return
    Index(f"ix_{spec.table.name}_rpde_order", spec.modified_column, spec.id_column)



def _install_after_create(table: Table, connection: Connection, **kw: t.Any) -> None:
    spec = spec_for(table)
    if spec is not None:
        # create_all() creates the clock itself
        install_spec_triggers(connection, spec, prepare=not kw.get("_is_metadata_operation"))



def _uninstall_after_drop(table: Table, connection: Connection, **kw: t.Any) -> None:
    spec = spec_for(table)
    if spec is not None:
        backend_for(connection.dialect).uninstall(spec, connection)

