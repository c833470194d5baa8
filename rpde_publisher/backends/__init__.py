"""Per-database rules: how rows are stamped, and which rows a feed may show yet.

Each database is one module implementing :class:`~rpde_publisher.backends.base.Backend`;
nothing outside this package names a database.
"""

from __future__ import annotations

import functools

from sqlalchemy.engine import Dialect

from ..errors import ConfigurationError
from .base import Backend
from .base import Identifiers
from .base import identifiers
from .base import Lag
from .base import object_name
from .base import quoted

__all__ = [
    "Backend",
    "Identifiers",
    "Lag",
    "backend_for",
    "identifiers",
    "is_schema_error",
    "object_name",
    "quoted",
]


def is_schema_error(error: BaseException) -> bool:
    """Whether a database error says a table or column does not exist (on any backend):
    a feed not set up yet, rather than a database that is down or slow."""
    from .mysql import MySQLBackend
    from .postgresql import PostgreSQLBackend
    from .sqlite import SQLiteBackend

    return any(
        backend.is_schema_error(error)
        for backend in (SQLiteBackend, PostgreSQLBackend, MySQLBackend)
    )



def backend_for(dialect: Dialect) -> Backend:
    """The backend for ``dialect``; a clear error for a database we cannot make safe."""
    return _backend_named(dialect.name)



@functools.cache
def _backend_named(name: str) -> Backend:
    """One backend per database: they hold no state, and a page asks for one."""
    if name == "postgresql":
        from .postgresql import PostgreSQLBackend

        return PostgreSQLBackend()
    if name == "sqlite":
        from .sqlite import SQLiteBackend

        return SQLiteBackend()
    if name in ("mysql", "mariadb"):
        from .mysql import MySQLBackend

        return MySQLBackend()
    raise ConfigurationError(
        f"rpde_publisher cannot publish feeds from a {name!r} database: supported databases"
        " are PostgreSQL, SQLite and MySQL/MariaDB."
    )

