"""The columns `rpde.feed()` names, checked: the stamp, the tombstone, the data, the expiry."""

from __future__ import annotations

import typing as t
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from .errors import ConfigurationError
from .migration import prepare_table
from .registry import rules_for
from .tables import spec_for
from .tables import TableSpec

__all__ = ["check_deleted_column", "check_modified_column", "expires_expression", "feed_spec"]


def _column_name(value: t.Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    key = getattr(value, "key", None) or getattr(value, "name", None)
    if isinstance(key, str):
        expression = getattr(value, "expression", None)
        name = getattr(expression, "name", None)
        return name if isinstance(name, str) else key
    raise ConfigurationError(f"Expected a column or a column name, got {value!r}.")



def feed_spec(
    table: Table, feed_name: str, *, modified: t.Any, deleted: t.Any, data: t.Any
) -> TableSpec:
    """The table's feed spec, with the columns this feed names; every conflict with
    ``FeedMixin`` or with another feed of the table is refused here, not at a commit."""
    wanted_modified = _column_name(modified, "modified")
    wanted_deleted = _column_name(deleted, "deleted")
    wanted_data = None if data is None else _column_name(data, "rpde_data")
    for name, role in ((wanted_modified, "modified"), (wanted_deleted, "deleted")):
        if name not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: table {table.name!r} has no column {name!r} for the"
                f" feed's {role} value; add FeedMixin to the model or pass {role}=<column>"
                " to rpde.feed()."
            )
    check_modified_column(table.c[wanted_modified], feed_name)
    check_deleted_column(table.c[wanted_deleted], feed_name)
    spec = spec_for(table)
    if spec is None:
        return prepare_table(
            table, modified=wanted_modified, deleted=wanted_deleted, data=wanted_data
        )
    rules = rules_for(table)
    published = rules.feed_names if rules is not None else []
    owner = f"feed(s) {published}" if published else "FeedMixin"
    if modified is not None and wanted_modified != spec.modified_column.name:
        raise ConfigurationError(
            f"Feed {feed_name!r}: {owner} already stamp{'' if published else 's'}"
            f" table {table.name!r} in column {spec.modified_column.name!r}; a table has one"
            f" stamp. Drop modified={wanted_modified!r}, or drop FeedMixin and name your own"
            " columns."
        )
    if deleted is not None and wanted_deleted != spec.deleted_column.name:
        if published:
            raise ConfigurationError(
                f"Feed {feed_name!r}: {owner} already mark tombstones of {table.name!r} in"
                f" column {spec.deleted_column.name!r}, not {wanted_deleted!r}."
            )
        # The app's own soft-delete column decides, and the mixin's stays unused.
        spec = spec.replaced(deleted_column=table.c[wanted_deleted])
    current_data = spec.data_column.name if spec.data_column is not None else None
    if wanted_data is not None and wanted_data != current_data:
        if wanted_data not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: table {table.name!r} has no column {wanted_data!r} for"
                " the feed's data; pass data=None to render each item on every read."
            )
        if published:
            raise ConfigurationError(
                f"Feed {feed_name!r}: {owner} already store {table.name!r}'s data in"
                f" column {current_data!r}, not {wanted_data!r}."
            )
        spec = spec.replaced(data_column=table.c[wanted_data])
    return spec



def check_modified_column(column: t.Any, feed_name: str) -> None:
    """Refuse a ``modified`` column the toolkit cannot own as its stamp."""
    python_type = _python_type(column)
    integer = python_type is not None and issubclass(python_type, int)
    if integer and python_type is not bool and not column.primary_key:
        return
    raise ConfigurationError(
        f"Feed {feed_name!r}: modified={column.table.name}.{column.name} is a"
        f" {column.type!r} column. RPDE's `modified` must be a stamp the toolkit owns: an"
        " integer that the database raises on every change, in the order the changes"
        " become visible. That is what keeps a consumer from missing an item that a slower"
        " transaction commits late (docs/guarantee.md); a time the app writes, such as"
        " updated_at, cannot promise it. Keep your column as it is and add an integer one"
        " beside it: FeedMixin adds `modified`, or declare"
        " `modified = mapped_column(BigInteger, nullable=False, server_default='0')` and"
        " pass modified=Model.modified; `flask rpde adopt` adds it to an existing table."
    )



def check_deleted_column(column: t.Any, feed_name: str) -> None:
    """Refuse a ``deleted`` column that is neither a timestamp nor a boolean flag."""
    python_type = _python_type(column)
    if python_type is not None and issubclass(python_type, (datetime, bool)):
        return
    raise ConfigurationError(
        f"Feed {feed_name!r}: deleted={column.table.name}.{column.name} is a"
        f" {column.type!r} column; it must be a timestamp (NULL while the row is live) or"
        " a boolean soft-delete flag."
    )



def _python_type(column: t.Any) -> type | None:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        return t.cast(type, type_.python_type)
    except NotImplementedError:
        return None



def expires_expression(expires: t.Any, table: Table, feed_name: str) -> t.Any:
    """``expires=`` as SQL: a column name, a column or attribute, or an SQL expression."""
    if expires is None:
        return None
    if isinstance(expires, str):
        if expires not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: expires={expires!r} names no column of {table.name!r}."
            )
        return table.c[expires]
    clause = getattr(expires, "__clause_element__", None)
    expression = clause() if callable(clause) else expires
    if isinstance(expression, ColumnElement):
        return expression
    raise ConfigurationError(
        f"Feed {feed_name!r}: expires= must be a column (Model.end), a column name or an SQL"
        f" expression giving each item's end time, got {expires!r}."
    )

