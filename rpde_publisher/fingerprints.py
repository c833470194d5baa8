"""What each feed's items were rendered and filtered with, and its triggers, kept in the database.

A feed's published data depends on its marshmallow schema and its ``publish_when``
filter, and its stamps on the triggers. Changing any of them changes what items say (or
whether they are live) without moving them, so a consumer already past them would never
learn. Each is recorded as a hash when it takes effect (the table is created, ``flask
rpde render`` or ``adopt`` has run, the triggers are installed), so that a change is
noticed at start-up and by ``status``, ``checklist`` and ``validate``.
"""

from __future__ import annotations

import hashlib
import inspect
import typing as t

from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import inspect as inspect_database
from sqlalchemy import MetaData
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from .columns import utcnow
from .tables import FINGERPRINT_TABLE
from .tables import fingerprint_table

__all__ = [
    "feed_fingerprints",
    "filter_fingerprint",
    "filter_key",
    "record",
    "recorded",
    "schema_fingerprint",
    "schema_key",
    "triggers_fingerprint",
    "triggers_key",
]

#: The table outside any app's metadata, for reading and recording on any connection.
_standalone = MetaData()


def schema_key(feed_name: str) -> str:
    return f"schema:{feed_name}"


def filter_key(feed_name: str) -> str:
    return f"filter:{feed_name}"


def triggers_key(table: Table) -> str:
    return f"triggers:{table.fullname}"


def schema_fingerprint(schema: Schema) -> str:
    """A hash of the schema's classes (their source, where Python has it) and options.

    Code the schema calls outside its classes (a helper function) is not seen.
    """
    parts = [repr((schema.only, schema.exclude, schema.many, schema.dump_only))]
    _describe(type(schema), parts, set())
    return _hash(parts)


def filter_fingerprint(criterion: ColumnElement[bool] | None) -> str:
    """A hash of the ``publish_when`` criterion's SQL, with its values."""
    if criterion is None:
        return _hash(["none"])
    compiled = criterion.compile()
    return _hash([str(compiled), repr(sorted(compiled.params.items(), key=repr))])


def feed_fingerprints(feed: t.Any) -> dict[str, str]:
    """The schema and filter fingerprints of a :class:`~rpde_publisher.Feed`, by key."""
    return {
        schema_key(feed.name): schema_fingerprint(feed.schema),
        filter_key(feed.name): filter_fingerprint(feed.publish_when()),
    }


def triggers_fingerprint(statements: t.Sequence[str]) -> str:
    """A hash of the statements that install a table's triggers."""
    return _hash(list(statements))


def recorded(connection: Connection) -> dict[str, str]:
    """Every recorded fingerprint by key; empty where none was ever recorded."""
    if not inspect_database(connection).has_table(FINGERPRINT_TABLE):
        return {}
    table = fingerprint_table(_standalone)
    return {key: value for key, value in connection.execute(select(table.c.key, table.c.value))}


def record(connection: Connection, values: t.Mapping[str, str]) -> None:
    """Record ``values`` (fingerprints by key), creating the table if needed."""
    if not values:
        return
    table = fingerprint_table(_standalone)
    table.create(connection, checkfirst=True)
    connection.execute(delete(table).where(table.c.key.in_(list(values))))
    now = utcnow()
    connection.execute(
        insert(table),
        [{"key": key, "value": value, "recorded_at": now} for key, value in values.items()],
    )


def _describe(schema_class: type, parts: list[str], seen: set[type]) -> None:
    if schema_class in seen:
        return
    seen.add(schema_class)
    parts.append(_source(schema_class))
    declared: dict[str, fields.Field[t.Any]] = getattr(schema_class, "_declared_fields", {})
    for name, field in sorted(declared.items()):
        parts.append(f"{name}: {_source(type(field))} {field.data_key} {field.attribute}")
        for function in (getattr(field, "serialize_func", None),):
            if function is not None:
                parts.append(_source(function))
        for nested in _nested_schemas(field):
            _describe(nested, parts, seen)


def _nested_schemas(field: fields.Field[t.Any]) -> list[type]:
    found: list[type] = []
    for inner in (field, getattr(field, "inner", None), getattr(field, "value_field", None)):
        nested = getattr(inner, "nested", None)
        if isinstance(nested, type) and issubclass(nested, Schema):
            found.append(nested)
        elif isinstance(nested, Schema):
            found.append(type(nested))
    return found


def _source(obj: t.Any) -> str:
    """The app's own code by its source; a library's by its name (an upgrade of marshmallow
    does not change what a schema says)."""
    name = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
    if name.startswith("marshmallow."):
        return name
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return name


def _hash(parts: list[str]) -> str:
    return hashlib.sha256("\n\0".join(parts).encode()).hexdigest()
