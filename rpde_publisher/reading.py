"""Reading a page's rows, without Flask: fetch them, store what a read rendered, render the rest."""

from __future__ import annotations

import logging
import typing as t

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from .backends import is_schema_error
from .diagnosis import Problem
from .diagnosis import setup_problem
from .outages import DATABASE_UNAVAILABLE
from .query import fetch_rows
from .query import render_missing_rows
from .query import unrendered
from .query import with_data
from .store import store_rendered

if t.TYPE_CHECKING:
    from .cursor import Cursor
    from .extension import AppState
    from .feed import Feed
    from .query import ItemRow

__all__ = ["read_rows", "setup_problem_of"]

logger = logging.getLogger("rpde_publisher")

#: Setup problems already logged, by feed name and problem code.
_logged_problems: set[tuple[str, str]] = set()


def read_rows(
    state: AppState, feed: Feed, cursor: Cursor, organisation: t.Any = None
) -> list[ItemRow]:
    """The page's rows (only ``organisation``'s, if given), every live one with its data.

    Live rows of a feed that stores data but have none yet are rendered and stored on the
    primary (see :func:`~rpde_publisher.store.store_rendered`); those it must leave are rendered
    for this page only.
    """
    stores_data = feed.data_column is not None
    rows = _fetch_rows(state, feed, cursor, organisation, render_missing=not stores_data)
    missing = unrendered(rows) if stores_data else []
    if missing:
        stored = _store_rendered(state, feed, missing)
        rows = with_data(rows, stored)
        state.metrics.rendered_on_read(
            feed.name, stored=len(stored), left=len(missing) - len(stored)
        )
        if len(stored) < len(missing):  # left for a later read: rendered for this page only
            with state.read_sessions.connection(
                feed.spec.table, statement_timeout=state.settings.statement_timeout
            ) as connection:
                rows = render_missing_rows(connection, feed, rows)
    return rows



def _fetch_rows(
    state: AppState, feed: Feed, cursor: Cursor, organisation: t.Any, *, render_missing: bool
) -> list[ItemRow]:
    """:func:`~rpde_publisher.query.fetch_rows` on a read connection; a connection the
    database dropped is retried once on a fresh one."""
    settings = state.settings
    for attempt in (1, 2):
        try:
            with state.read_sessions.connection(
                feed.spec.table, statement_timeout=settings.statement_timeout
            ) as connection:
                return fetch_rows(
                    connection,
                    feed,
                    cursor,
                    settings.page_size,
                    settle_seconds=settings.settle_seconds,
                    organisation=organisation,
                    render_missing=render_missing,
                )
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")



def setup_problem_of(state: AppState, feed: Feed, error: BaseException) -> Problem | None:
    """Why ``feed``'s table cannot be read (missing, or without the feed's columns), if
    that is why the read failed; ``None`` otherwise, or if the database cannot say. Only
    an error naming a missing table or column is looked into: an outage must not cost
    more queries."""
    if not is_schema_error(error):
        return None
    try:
        with state.sessions.connection(
            feed.spec.table, statement_timeout=state.settings.statement_timeout
        ) as connection:
            problem = setup_problem(connection, feed)
    except DATABASE_UNAVAILABLE:
        return None
    if problem is not None and (feed.name, problem.code) not in _logged_problems:
        _logged_problems.add((feed.name, problem.code))  # once per process, not per request
        logger.error("%s", problem)
    return problem



def _store_rendered(
    state: AppState, feed: Feed, stamps: list[tuple[t.Any, t.Any]]
) -> dict[t.Any, str]:
    """Render and store the data of the items ``stamps`` names, on the primary database;
    the data stored, by id (none if the database refused)."""
    try:
        with state.sessions.writing(
            feed.spec.table, statement_timeout=state.settings.statement_timeout
        ) as connection:
            return {} if connection is None else store_rendered(connection, feed.spec, stamps)
    except (DBAPIError, PoolTimeoutError) as exc:
        # A writer holding a row (lock not available, SQLite busy) is expected: a later
        # read stores it. Anything else (a read-only primary, say) is worth a warning.
        log = logger.debug if isinstance(exc, OperationalError) else logger.warning
        log("Feed %r did not store the data it rendered: %s", feed.name, exc)
        return {}

