"""Adopting feeds on an existing database: the triggers as SQL, for Alembic migrations."""

from __future__ import annotations

import typing as t

from sqlalchemy import inspect
from sqlalchemy import Table
from sqlalchemy.dialects import registry
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect

from .backends import backend_for
from .errors import ConfigurationError
from .tables import spec_for
from .tables import TableSpec


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
    Use the statements with ``op.execute()`` in an Alembic migration, after adding the
    columns and the ``(modified, id)`` index. Register feeds (``rpde.feed()``) before
    generating them: the feed's ordering decides how PostgreSQL stamps rows.
    """
    resolved: Dialect = registry.load(dialect)() if isinstance(dialect, str) else dialect
    return backend_for(resolved).ddl(_spec(model_or_table), resolved)


def install_triggers(connection: Connection, model_or_table: t.Any) -> None:
    """Install the triggers of a feed's table on ``connection`` (e.g. ``op.get_bind()``)."""
    spec = _spec(model_or_table)
    backend = backend_for(connection.dialect)
    backend.prepare(spec, connection)
    backend.install(spec, connection)
