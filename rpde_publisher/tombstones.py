"""Tombstones through the ORM: a delete keeps its row as a tombstone, a new row revives it."""

from __future__ import annotations

import typing as t
from collections import defaultdict

from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import Update
from sqlalchemy import update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.elements import ColumnElement

from .columns import utcnow
from .tables import spec_for
from .tables import TableSpec

__all__ = ["keep_deleted_as_tombstones", "revive_tombstones", "tombstoning", "spec_of_mapper"]


def spec_of_mapper(mapper: Mapper[t.Any]) -> TableSpec | None:
    """The feed spec of the mapper's table, or ``None`` if it is not a feed table."""
    return spec_for(mapper.local_table)  # type: ignore[arg-type]


def tombstoning(
    mapper: Mapper[t.Any], spec: TableSpec, criterion: ColumnElement[bool] | None
) -> Update:
    """The ``UPDATE`` a bulk ``DELETE`` of the live rows matching ``criterion`` becomes."""
    statement = update(mapper).values({spec.deleted_column.key: spec.deleted_value(utcnow())})
    statement = statement.where(spec.is_live())
    return statement if criterion is None else statement.where(criterion)


def keep_deleted_as_tombstones(session: Session) -> None:
    """Undo the session's deletes of feed rows: each row stays, marked a tombstone."""
    for obj in list(session.deleted):
        mapper = t.cast("Mapper[t.Any]", inspect(obj).mapper)
        spec = spec_of_mapper(mapper)
        if spec is None:
            continue
        session.add(obj)  # undoes the delete: the row stays, as a tombstone
        key = mapper.get_property_by_column(spec.deleted_column).key
        if spec.value_is_live(getattr(obj, key)):
            setattr(obj, key, spec.deleted_value(utcnow()))



def revive_tombstones(session: Session) -> None:
    """A new object whose id belongs to a tombstone replaces the tombstone's row."""
    candidates: defaultdict[Mapper[t.Any], dict[t.Any, t.Any]] = defaultdict(dict)
    for obj in session.new:
        mapper = t.cast("Mapper[t.Any]", inspect(obj).mapper)
        if spec_of_mapper(mapper) is None:
            continue
        id_ = mapper.primary_key_from_instance(obj)[0]
        if id_ is not None:
            candidates[mapper][id_] = obj
    for mapper, by_id in candidates.items():
        spec = spec_of_mapper(mapper)
        assert spec is not None
        tombstones = session.execute(
            select(spec.id_column).where(
                spec.id_column.in_(list(by_id)), spec.is_tombstone()
            ),
            bind_arguments={"mapper": mapper},
        ).scalars()
        for id_ in tombstones:
            _revive(session, mapper, spec, by_id[id_])



def _revive(session: Session, mapper: Mapper[t.Any], spec: TableSpec, obj: t.Any) -> None:
    key = mapper.identity_key_from_instance(obj)
    session.expunge(obj)
    stale = session.identity_map.get(key)
    if stale is not None:
        session.expunge(stale)
    make_transient_to_detached(obj)
    session.add(obj)
    # Write every value the new object carries over the tombstone's row.
    for attribute in mapper.attrs:
        if attribute.key in obj.__dict__:
            flag_modified(obj, attribute.key)
    setattr(obj, mapper.get_property_by_column(spec.deleted_column).key, spec.live_value)

