"""Which database errors are outages: the database is down, too slow or out of connections."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

__all__ = ["DATABASE_UNAVAILABLE", "is_outage"]

#: Errors that can mean the database is down, too slow, or out of connections.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, DBAPIError)


def is_outage(exc: BaseException) -> bool:
    """Whether a database error means "not now" (unreachable, too slow, out of
    connections) rather than a bug."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
