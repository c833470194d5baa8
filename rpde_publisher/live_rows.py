"""Keep tombstones out of an app's own ORM queries (opt-in), and let one query see them."""

from __future__ import annotations

import typing as t

from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import true
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import with_loader_criteria
from sqlalchemy.orm.interfaces import ORMOption

from .tables import spec_for

__all__ = ["INCLUDE_TOMBSTONES", "hide_tombstones", "show_tombstones"]

#: The execution option that lets one query see tombstones again:
#: ``select(Event).execution_options(include_tombstones=True)``.
INCLUDE_TOMBSTONES = "include_tombstones"


def hide_tombstones(target: t.Any) -> None:
    """Keep tombstones out of every ORM query made through ``target``.

    ``target`` is what the app queries through: Flask-SQLAlchemy's ``db.session``, a
    ``scoped_session``, a ``sessionmaker``, or a ``Session`` subclass. After
    ``session.delete(row)`` a feed row stays as a tombstone (the feeds must tell
    consumers it went); with this, the app's own ``select(Model)``, ``session.get()``
    and relationship loads (``venue.events``) no longer return it, as if it were gone.
    Loading the attributes of an object already in the session is left alone. One query
    sees tombstones again with the execution option ``include_tombstones=True`` (see
    :func:`show_tombstones`). The feeds themselves never go through it.
    """
    event.listen(target, "do_orm_execute", _hide)


def show_tombstones() -> dict[str, bool]:
    """The execution options of a query that should see tombstones:
    ``session.execute(select(Event), execution_options=show_tombstones())``."""
    return {INCLUDE_TOMBSTONES: True}


def _hide(state: ORMExecuteState) -> None:
    if (
        not state.is_select
        or state.is_column_load
        or state.execution_options.get(INCLUDE_TOMBSTONES, False)
    ):
        return
    options = _live_criteria(state.all_mappers)
    if options:
        state.statement = state.statement.options(*options)


def _live_criteria(mappers: t.Sequence[Mapper[t.Any]]) -> list[ORMOption]:
    """A loader criterion for each feed model the statement touches, and for every feed
    model of their registries (reached by eager loads)."""
    options: list[ORMOption] = []
    seen: set[Mapper[t.Any]] = set()
    for mapper in mappers:
        for candidate in mapper.registry.mappers:
            if candidate in seen or candidate.inherits is not None:
                continue
            seen.add(candidate)
            spec = spec_for(candidate.local_table)  # type: ignore[arg-type]
            if spec is None:
                continue
            model = candidate.class_
            key = inspect(model).get_property_by_column(spec.deleted_column).key
            column = getattr(model, key)
            live = column.is_not(true()) if spec.deleted_is_flag else column.is_(None)
            options.append(with_loader_criteria(model, live, include_aliases=True))
    return options
