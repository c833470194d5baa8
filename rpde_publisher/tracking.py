"""Change tracking: the SQLAlchemy session events that keep every feed following its rows.

The database stamps ``modified`` itself (see :mod:`rpde_publisher.backends`); these
events do what only the ORM can: keep deleted rows as tombstones
(:mod:`~rpde_publisher.tombstones`), find the items an embedded child's change moves
(:mod:`~rpde_publisher.moves`), and render each changed item's ``data`` once, just before
the transaction commits (:mod:`~rpde_publisher.store`).

The events are installed by :func:`install`, which the toolkit calls as soon as a table
becomes a feed table (``FeedMixin``, ``rpde.feed()``). They listen on SQLAlchemy's
``Session`` class, so they serve every session in the process, not only the one handed
to ``init_app``: a script's own session that deletes a feed row must still leave a
tombstone, and one that updates it must still move and re-render it, or a consumer
would miss the change. For sessions that write no feed table they cost one check per
flush.
"""

from __future__ import annotations

import typing as t
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import MANYTOONE
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm import UOWTransaction
from sqlalchemy.sql.elements import ColumnElement

from .embedding import Embedding
from .moves import bump_through_collection
from .moves import changed_collection_paths
from .moves import collect_parents
from .moves import collect_parents_where
from .moves import connection_for
from .moves import forget_changes
from .moves import has_pending_changes
from .moves import paths_of_new_rows
from .moves import pending_changes
from .registry import embedded_in
from .registry import render_at_of
from .store import moved_unrendered
from .store import render_items
from .tombstones import keep_deleted_as_tombstones
from .tombstones import revive_tombstones
from .tombstones import spec_of_mapper
from .tombstones import tombstoning

__all__ = ["install", "installed"]


def install() -> None:
    """Listen to every ``Session``'s flushes, commits and bulk statements (once)."""
    for name, listener in _LISTENERS.items():
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return all(event.contains(Session, name, listener) for name, listener in _LISTENERS.items())


def _mapper_of(obj: t.Any) -> Mapper[t.Any]:
    return t.cast("Mapper[t.Any]", inspect(obj).mapper)


def _identity(obj: t.Any, mapper: Mapper[t.Any]) -> t.Any:
    return mapper.primary_key_from_instance(obj)[0]


def _before_flush(session: Session, flush_context: UOWTransaction, instances: t.Any) -> None:
    changes = pending_changes(session)
    with session.no_autoflush:
        keep_deleted_as_tombstones(session)
        revive_tombstones(session)
        # Parents of children about to change or go: found while the old rows exist.
        # A row whose only change is one of its collections (a backref's, as when a
        # session is added at a place) is not a change of the row: its parents stay.
        before: defaultdict[Mapper[t.Any], set[t.Any]] = defaultdict(set)
        through_collections: defaultdict[Embedding, set[t.Any]] = defaultdict(set)
        for obj in list(session.dirty) + list(session.deleted):
            state = inspect(obj)
            if not state.persistent:
                continue
            mapper = state.mapper
            if embedded_in(mapper.local_table) and (obj in session.deleted or _writes_row(state)):
                before[mapper].add(_identity(obj, mapper))
            for embedding in changed_collection_paths(state):
                through_collections[embedding].add(_identity(obj, mapper))
        # Locked now, before the children are written: a render locks its item, then the
        # rows it embeds (render_items); taken in the same order, they cannot deadlock.
        for mapper, ids in before.items():
            collect_parents(session, changes, mapper, ids, lock=True)
        for embedding, ids in through_collections.items():
            bump_through_collection(session, changes, embedding, ids)


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    changes = pending_changes(session)
    for obj in list(session.new) + list(session.dirty):
        mapper = _mapper_of(obj)
        if obj not in session.new and not _writes_row(inspect(obj)):
            continue  # only collections changed: _before_flush moved what they embed
        spec = spec_of_mapper(mapper)
        changes.written_tables.add(mapper.local_table)  # type: ignore[arg-type]
        if spec is not None:
            changes.items[spec].add(_identity(obj, mapper))
            changes.flushed.append(obj)
            if obj in session.new or _links_changed(obj, mapper):
                changes.relinked[spec].add(_identity(obj, mapper))
        if embedded_in(mapper.local_table):
            changes.children[mapper].add(_identity(obj, mapper))


def _after_flush_postexec(session: Session, flush_context: UOWTransaction) -> None:
    changes = pending_changes(session)
    # The triggers changed these columns; reload them on next access.
    for obj in changes.flushed:
        state = inspect(obj)
        if state.persistent:
            spec = spec_of_mapper(state.mapper)
            assert spec is not None
            keys = [state.mapper.get_property_by_column(spec.modified_column).key]
            session.expire(obj, keys)
    changes.flushed.clear()


def _before_commit(session: Session) -> None:
    session.flush()  # commit flushes after this event; the changes must be known now
    if not has_pending_changes(session):
        return
    changes = pending_changes(session)
    with session.no_autoflush:
        for mapper, ids in list(changes.children.items()):
            collect_parents(session, changes, mapper, ids)
        changes.children.clear()
        for spec in changes.sweep:
            connection = connection_for(session, spec)
            unrendered = select(spec.id_column).where(spec.is_live())
            if spec.data_column is not None:
                unrendered = unrendered.where(spec.data_column.is_(None))
            swept = set(connection.execute(unrendered).scalars())
            changes.items[spec].update(swept)
            changes.relinked[spec].update(swept)
        changes.sweep.clear()
        # Every render (which may wait for locks) first, every store last: the stores
        # stamp the items, and on MySQL a stamp must be close to the commit (see
        # RPDE_SETTLE_SECONDS), not as old as the longest lock wait.
        renders = [
            render_items(
                connection_for(session, spec),
                spec,
                ids,
                lock=changes.bumped[spec] - changes.locked[spec],
                relinked=changes.relinked[spec],
                written_tables=changes.written_tables,
                check=True,
            )
            if render_at_of(spec) == "commit"
            else moved_unrendered(
                connection_for(session, spec),
                spec,
                ids,
                changes.bumped[spec],
                lock=changes.bumped[spec] - changes.locked[spec],
                relinked=changes.relinked[spec],
                written_tables=changes.written_tables,
                check=True,
            )
            for spec, ids in changes.items.items()
            if ids
        ]
        for render in renders:
            render.store()
        for state in (changes.items, changes.bumped, changes.locked, changes.relinked):
            state.clear()
        changes.written_tables.clear()


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction committed or rolled back
        forget_changes(session)


def _do_orm_execute(state: ORMExecuteState) -> t.Any:
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    mapper = state.bind_mapper
    if mapper is None:
        return None
    spec = spec_of_mapper(mapper)
    embeddings = embedded_in(mapper.local_table)
    if spec is None and not embeddings:
        return None
    changes = pending_changes(state.session)
    changes.written_tables.add(mapper.local_table)  # type: ignore[arg-type]
    criterion = _bulk_criterion(state, mapper)
    if spec is not None and state.is_delete:
        # A bulk delete becomes a bulk tombstoning of the live rows it matches.
        tombstones = tombstoning(mapper, spec, criterion)
        return state.session.execute(tombstones, execution_options=state.local_execution_options)
    if embeddings and (state.is_update or state.is_delete):
        collect_parents_where(state.session, changes, embeddings, criterion, lock=True)
    if spec is not None and state.is_update:
        ids = select(spec.id_column)
        if criterion is not None:
            ids = ids.where(criterion)
        updated = set(connection_for(state.session, spec).execute(ids).scalars())
        changes.items[spec].update(updated)
        changes.relinked[spec].update(updated)  # which columns changed is not known
    result = state.invoke_statement()
    if state.is_insert and spec is not None:
        changes.sweep.add(spec)
    if embeddings and (state.is_update or state.is_insert):
        # Rows may match only after the change (a child moved to another parent).
        if state.is_insert and criterion is None:  # new rows, ids not known
            for embedding, links in paths_of_new_rows(state, mapper, embeddings):
                collect_parents_where(state.session, changes, [embedding], links)
        elif criterion is not None:
            collect_parents_where(state.session, changes, embeddings, criterion)
    return result












def _writes_row(state: InstanceState[t.Any]) -> bool:
    """Whether this flush writes the object's own row: a column changed, or a many-to-one
    link (its foreign key). A change to one of its collections alone writes other rows
    (the children's, or a link table's)."""
    mapper = state.mapper
    keys = [prop.key for prop in mapper.column_attrs] + [
        relationship.key
        for relationship in mapper.relationships
        if relationship.direction is MANYTOONE and not relationship.viewonly
    ]
    return any(state.attrs[key].history.has_changes() for key in keys)




def _links_changed(obj: t.Any, mapper: Mapper[t.Any]) -> bool:
    """Whether this flush changed one of ``obj``'s foreign keys (setting a many-to-one
    relationship sets them too)."""
    state = inspect(obj)
    return any(
        any(column.foreign_keys for column in prop.columns)
        and state.attrs[prop.key].history.has_changes()
        for prop in mapper.column_attrs
    )







def _bulk_criterion(state: ORMExecuteState, mapper: Mapper[t.Any]) -> ColumnElement[bool] | None:
    statement: t.Any = state.statement
    if getattr(statement, "whereclause", None) is not None:
        return t.cast(ColumnElement[bool], statement.whereclause)
    # ORM bulk UPDATE by primary key: the ids are in the parameter list.
    if isinstance(state.parameters, list):
        key = mapper.primary_key[0].key
        ids = [row[key] for row in state.parameters if key in row]
        if ids:
            return mapper.primary_key[0].in_(ids)
    return None


_LISTENERS: dict[str, t.Callable[..., t.Any]] = {
    "before_flush": _before_flush,
    "after_flush": _after_flush,
    "after_flush_postexec": _after_flush_postexec,
    "before_commit": _before_commit,
    "after_transaction_end": _after_transaction_end,
    "do_orm_execute": _do_orm_execute,
}
