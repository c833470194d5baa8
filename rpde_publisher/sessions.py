"""Borrow a SQLAlchemy session from whatever the app hands over, and a connection from it."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .errors import ConfigurationError


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
            try:
                connection = session.connection(bind_arguments={"clause": table})
                if statement_timeout:
                    from .backends import backend_for

                    limit = backend_for(connection.dialect).statement_timeout(
                        connection, statement_timeout
                    )
                    with limit:
                        yield connection
                else:
                    yield connection
            finally:
                if began and not self.owns_sessions:
                    session.rollback()


def is_scoped(factory: t.Any) -> bool:
    """Whether ``factory`` is a ``scoped_session`` (Flask-SQLAlchemy's ``db.session`` is)."""
    return isinstance(factory, scoped_session)
