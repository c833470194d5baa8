"""The organisation move guard: a row may not move from one organisation to another.

Moving it would take it out of its old organisation's feed without a tombstone, and that
feed's consumers would keep it for good. The guard reads, before each flush, the
organisation columns of rows that may change them, and fails the flush if one changed.
Like change tracking (:mod:`~rpde_publisher.tracking`), it listens on every ``Session``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable

from sqlalchemy import Column
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm import Session
from sqlalchemy.orm import UOWTransaction

from .errors import OrganisationMoveError

__all__ = ["guard_organisation_column"]

#: ``table.info`` key: the names of the table's organisation columns.
_GUARDED = "rpde_organisation_columns"
#: ``session.info`` key: each flush's rows whose organisation may change, as they were.
_BEFORE = "_rpde_organisations"
_BATCH = 500


def guard_organisation_column(table: Table, name: str) -> None:
    """Refuse, at every flush from now on, a change of column ``name`` of ``table`` from one
    organisation to another (a first organisation may be set)."""
    table.info.setdefault(_GUARDED, set()).add(name)
    if not event.contains(Session, "before_flush", _remember_organisations):
        event.listen(Session, "before_flush", _remember_organisations)
        event.listen(Session, "after_flush", _refuse_moves)


def _remember_organisations(session: Session, flush_context: UOWTransaction, _: t.Any) -> None:
    """Read, before the flush writes them, the organisations of rows that may change one."""
    session.info.pop(_BEFORE, None)
    candidates: dict[Mapper[t.Any], dict[t.Any, InstanceState[t.Any]]] = {}
    for obj in (*session.new, *session.dirty):
        state: InstanceState[t.Any] = inspect(obj)
        mapper = state.mapper
        names = getattr(mapper.local_table, "info", {}).get(_GUARDED)
        if not names or not _may_change(state, mapper, names):
            continue
        identity = state.identity[0] if state.identity else _pending_id(state, mapper)
        if identity is not None:
            candidates.setdefault(mapper, {})[identity] = state
    before: list[tuple[InstanceState[t.Any], dict[str, t.Any]]] = []
    with session.no_autoflush:
        for mapper, states in candidates.items():
            table = t.cast(Table, mapper.local_table)
            names = sorted(table.info[_GUARDED])
            id_column = mapper.primary_key[0]
            ids = list(states)
            for start in range(0, len(ids), _BATCH):
                query = select(id_column, *(table.c[name] for name in names)).where(
                    id_column.in_(ids[start : start + _BATCH])
                )
                for row in session.execute(query, bind_arguments={"mapper": mapper}):
                    found = states.get(row[0])  # a collation may match another spelling
                    if found is not None:
                        before.append((found, dict(zip(names, row[1:], strict=True))))
    if before:
        session.info[_BEFORE] = before


def _refuse_moves(session: Session, flush_context: UOWTransaction) -> None:
    """Fail the flush (it rolls back) if a row's organisation changed to another one."""
    for state, organisations in session.info.pop(_BEFORE, ()):
        mapper = state.mapper
        table = t.cast(Table, mapper.local_table)
        for name, old in organisations.items():
            if old is None:  # a row may join its first organisation
                continue
            key = mapper.get_property_by_column(table.c[name]).key
            new = state.dict.get(key, old)
            if new != old:
                identity = state.identity[0] if state.identity else _pending_id(state, mapper)
                raise OrganisationMoveError(
                    f"{mapper.class_.__name__} {identity!r}"
                    f" belongs to organisation {old!r}; changing its {name} to {new!r} would"
                    f" take it out of {old!r}'s feed without a tombstone, and that feed's"
                    " consumers would keep it for good. Delete it (its tombstone stays in"
                    f" {old!r}'s feed) and add a new row for {new!r}."
                )


def _may_change(state: InstanceState[t.Any], mapper: Mapper[t.Any], names: Iterable[str]) -> bool:
    if state.key is None:
        return True  # a new object with the id of a tombstone revives (rewrites) its row
    table = t.cast(Table, mapper.local_table)
    for name in names:
        for key in _attributes_writing(mapper, table.c[name]):
            if state.attrs[key].history.has_changes():
                return True
    return False


def _attributes_writing(mapper: Mapper[t.Any], column: Column[t.Any]) -> list[str]:
    """The attributes whose change writes ``column``: its own, and many-to-one links."""
    keys = [prop.key for prop in mapper.column_attrs if column in prop.columns]
    keys += [
        prop.key
        for prop in mapper.relationships
        if isinstance(prop, RelationshipProperty) and column in prop.local_columns
    ]
    return keys


def _pending_id(state: InstanceState[t.Any], mapper: Mapper[t.Any]) -> t.Any:
    key = mapper.get_property_by_column(mapper.primary_key[0]).key
    return state.dict.get(key)
