"""What makes a table a feed table: its key columns, its ordering, and how it is rendered."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import BigInteger
from sqlalchemy import Column
from sqlalchemy import event
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from .errors import ConfigurationError

if t.TYPE_CHECKING:
    from .embedding import Embedding
    from .rendering import Renderer

Ordering = t.Literal["modified", "change_number"]
#: When a table's stored data is rendered: by each write, or by the first read after it.
RenderAt = t.Literal["commit", "read"]

#: Writing this value to the ``modified`` column asks the database for a fresh stamp
#: even when nothing else in the row changed ("touch"). Real stamps are positive.
TOUCH = -1

CLOCK_TABLE = "rpde_clock"


@dataclass(eq=False)
class TableSpec:
    """The feed columns of one table and the rules the database applies to them.

    Kept in ``table.info["rpde"]`` so that change tracking and the DDL find it from the
    table alone.
    """

    table: Table
    id_column: Column[t.Any]
    modified_column: Column[t.Any]
    deleted_column: Column[t.Any]
    data_column: Column[t.Any] | None
    ordering: Ordering = "modified"
    renderer: Renderer | None = None
    #: When the stored data is rendered (see ``rpde.feed(render_at=...)``).
    render_at: RenderAt = "commit"
    #: Which feeds (by name) registered this table, to catch conflicting registrations.
    feed_names: set[str] = field(default_factory=set)
    #: The embedded paths of feeds that store no data here (``data=None``): they render
    #: the items on every read, so a write locks those rows as a render would.
    read_embeddings: list[Embedding] = field(default_factory=list)

    def embeddings_to_lock(self) -> list[Embedding]:
        """Every embedded path a read or a stored render of this table's items follows."""
        stored = []
        if self.renderer is not None and self.data_column is not None:
            stored = list(self.renderer.embeddings)
        return stored + [
            item
            for item in self.read_embeddings
            if not any(other.path == item.path for other in stored)
        ]

    @property
    def id_is_integer(self) -> bool:
        """Whether item ids are integers (else strings)."""
        try:
            return issubclass(self.id_column.type.python_type, int)
        except NotImplementedError:
            return False


def spec_for(table: Table) -> TableSpec | None:
    """The feed spec of ``table``, or ``None`` if it is not a feed table."""
    return t.cast("TableSpec | None", table.info.get("rpde"))


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
    event.listen(table, "after_create", _install_after_create)
    event.listen(table, "after_drop", _uninstall_after_drop)
    return spec


def clock_table(metadata: MetaData) -> Table:
    """The one-row table that hands out SQLite's stamps (unused on other databases)."""
    existing = metadata.tables.get(CLOCK_TABLE)
    if existing is not None:
        return existing
    return Table(
        CLOCK_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("value", BigInteger, nullable=False),
        comment="Change counter for rpde_publisher feeds on SQLite.",
    )


def _column(table: Table, name: str, role: str) -> Column[t.Any]:
    try:
        return table.c[name]
    except KeyError:
        raise ConfigurationError(
            f"Table {table.name!r} has no column {name!r} for the feed's {role} value; add"
            f" FeedMixin to the model or pass {role}=<column> to rpde.feed()."
        ) from None


def _ensure_order_index(spec: TableSpec) -> None:
    wanted = [spec.modified_column.name, spec.id_column.name]
    for index in spec.table.indexes:
        if [column.name for column in index.columns][:2] == wanted:
            return
    Index(f"ix_{spec.table.name}_rpde_order", spec.modified_column, spec.id_column)


def _install_after_create(table: Table, connection: Connection, **kw: t.Any) -> None:
    from .backends import backend_for

    spec = spec_for(table)
    if spec is not None:
        backend = backend_for(connection.dialect)
        if not kw.get("_is_metadata_operation"):  # create_all() creates the clock itself
            backend.prepare(spec, connection)
        backend.install(spec, connection)


def _uninstall_after_drop(table: Table, connection: Connection, **kw: t.Any) -> None:
    from .backends import backend_for

    spec = spec_for(table)
    if spec is not None:
        backend_for(connection.dialect).uninstall(spec, connection)
