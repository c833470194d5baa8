"""Borrow a SQLAlchemy session from whatever the app hands over, and a connection from it."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .errors import ConfigurationError

__all__ = ["SessionSource", "is_scoped"]


class SessionSource:
    """Gives the read path a connection from the app's session.

    ``factory`` is what the app passed as ``session=``: Flask-SQLAlchemy's
    ``db.session`` or another ``scoped_session`` (borrowed: the app owns its lifecycle),
    or a ``sessionmaker`` (one session per use, closed after it).
    """

    def __init__(self, factory: Callable[[], Session]) -> None:
        if isinstance(factory, Session) or not callable(factory):
            raise ConfigurationError(
                "session= must be a callable that returns a SQLAlchemy Session, such as"
                " Flask-SQLAlchemy's db.session, a scoped_session or a sessionmaker;"
                f" got {factory!r}."
            )
        self.factory = factory
        self.owns_sessions = isinstance(factory, sessionmaker)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of work (borrowed, or made and closed here)."""
        session = self.factory()
        try:
            yield session
        finally:
            if self.owns_sessions:
                session.close()

    @contextmanager
    def connection(
        self, table: Table, statement_timeout: float | None = None
    ) -> Iterator[Connection]:
        """A connection for reading ``table``; any transaction begun here ends here.

        With ``statement_timeout``, each statement fails (``OperationalError``) after
        that many seconds, so a page cannot hold a connection for long.
        """
        with self.session() as session:
            began = not session.in_transaction()
            bind = session.get_bind(clause=table)
            if began and isinstance(bind, Engine):
                # Straight from the engine: the session's own begin and rollback cost
                # more than the checkout (about 65 us of each page).
                with bind.connect() as connection, _limited(connection, statement_timeout):
                    yield connection
                return
            try:  # inside the app's transaction (left open), or a session bound to a connection
                connection = session.connection(bind_arguments={"clause": table})
                with _limited(connection, statement_timeout):
                    yield connection
            finally:
                if began and not self.owns_sessions:
                    session.rollback()

    @contextmanager
    def writing(
        self, table: Table, statement_timeout: float | None = None
    ) -> Iterator[Connection | None]:
        """A connection in a transaction of its own, committed at the end (rolled back if
        the block raises). Taken from the session's engine, so that a transaction the app
        began on the session (its organisation lookup, say) is neither committed nor ended
        here; ``None`` if the session is bound to a connection and inside a transaction."""
        with self.session() as session:
            bind = session.get_bind(clause=table)
            if isinstance(bind, Engine):
                with bind.begin() as connection, _limited(connection, statement_timeout):
                    yield connection
                return
            if session.in_transaction():
                yield None
                return
            try:
                connection = session.connection(bind_arguments={"clause": table})
                with _limited(connection, statement_timeout):
                    yield connection
                session.commit()
            except BaseException:
                session.rollback()
                raise


@contextmanager
def _limited(connection: Connection, statement_timeout: float | None) -> Iterator[None]:
    """Each statement on ``connection`` fails after ``statement_timeout`` seconds, if given."""
    if not statement_timeout:
        yield
        return
    from .backends import backend_for

    with backend_for(connection.dialect).statement_timeout(connection, statement_timeout):
        yield


def is_scoped(factory: t.Any) -> bool:
    """Whether ``factory`` is a ``scoped_session`` (Flask-SQLAlchemy's ``db.session`` is)."""
    return isinstance(factory, scoped_session)
