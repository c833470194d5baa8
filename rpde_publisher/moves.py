"""What a transaction must move at commit, and which feed items an embedded row's change reaches."""

from __future__ import annotations

import typing as t
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import and_
from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm import MANYTOONE
from sqlalchemy.orm import Mapper
from sqlalchemy.orm import ONETOMANY
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.sql.elements import ColumnElement

from .backends import backend_for
from .embedding import Embedding
from .registry import embedded_in
from .rendering import BATCH_SIZE
from .store import lock_items
from .tables import TableSpec

__all__ = [
    "PendingChanges",
    "bump",
    "bump_through_collection",
    "changed_collection_paths",
    "collect_parents",
    "collect_parents_where",
    "connection_for",
    "forget_changes",
    "has_pending_changes",
    "paths_of_new_rows",
    "pending_changes",
]

_STATE_KEY = "_rpde_changes"
#: A collection's history without loading it, with a backref's pending appends.
_PENDING_TOO = PassiveFlag.PASSIVE_NO_INITIALIZE | PassiveFlag.INCLUDE_PENDING_MUTATIONS


@dataclass
class PendingChanges:
    """What one transaction changed that the feeds must follow, kept in ``session.info``."""

    #: Feed items to re-render and move at commit.
    items: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Embedded children written in this transaction, by child mapper.
    children: defaultdict[Mapper[t.Any], set[t.Any]] = field(
        default_factory=lambda: defaultdict(set)
    )
    #: Parent items moved because an embedded child changed: rows this transaction has not
    #: written itself, so not locked yet (see :func:`~rpde_publisher.store.render_items`).
    bumped: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Items this transaction may have linked to other embedded rows: inserted, or with a
    #: foreign key changed (their embedded rows are locked while they render).
    relinked: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Tables this transaction wrote through the ORM.
    written_tables: set[Table] = field(default_factory=set)
    #: Parent items locked before their child was written (see :mod:`~rpde_publisher.tracking`).
    locked: defaultdict[TableSpec, set[t.Any]] = field(default_factory=lambda: defaultdict(set))
    #: Feed tables bulk-inserted into: render every live row still without data.
    sweep: set[TableSpec] = field(default_factory=set)
    #: Objects flushed in the current flush, whose stamps the database just changed.
    flushed: list[t.Any] = field(default_factory=list)


def pending_changes(session: Session) -> PendingChanges:
    changes = session.info.get(_STATE_KEY)
    if changes is None:
        changes = session.info[_STATE_KEY] = PendingChanges()
    return t.cast(PendingChanges, changes)


def has_pending_changes(session: Session) -> bool:
    """Whether the session's transaction has recorded anything yet."""
    return _STATE_KEY in session.info


def forget_changes(session: Session) -> None:
    """Drop what the session's transaction recorded (it committed or rolled back)."""
    session.info.pop(_STATE_KEY, None)



def changed_collection_paths(state: InstanceState[t.Any]) -> list[Embedding]:
    """The embedded paths whose last step is a collection of this object (one-to-many or
    many-to-many) that this flush changes: its items' data changes though no row on the
    path but the children (or only a link table) is written.

    A many-to-one step is not among them: changing it writes the object's own row.
    """
    found: list[Embedding] = []
    for relationship in state.mapper.relationships:
        if relationship.direction is MANYTOONE or relationship.viewonly:
            continue
        ending_here = [
            embedding
            for embedding in embedded_in(relationship.mapper.local_table)
            if embedding.path[-1] is relationship
        ]
        # A backref's append to a collection not loaded is pending: include it.
        if ending_here and state.get_history(relationship.key, _PENDING_TOO).has_changes():
            found.extend(ending_here)
    return found


def bump_through_collection(
    session: Session, changes: PendingChanges, embedding: Embedding, ids: set[t.Any]
) -> None:
    """Move the items that reach the objects ``ids`` (whose collection at the end of
    ``embedding`` changed): those objects themselves when they are the items, else the
    items whose path leads to them. Locked now, as a child's parents are."""
    if len(embedding.path) == 1:
        bump(session, changes, embedding.parent, ids, lock=True)
        return
    leading = Embedding(embedding.parent, embedding.parent_model, embedding.path[:-1])
    key = embedding.path[-2].mapper.primary_key[0]
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = key.in_(ordered[start : start + BATCH_SIZE])
        collect_parents_where(session, changes, [leading], batch, lock=True)


def collect_parents(
    session: Session,
    changes: PendingChanges,
    mapper: Mapper[t.Any],
    ids: set[t.Any],
    *,
    lock: bool = False,
) -> None:
    if ids:
        child_id = mapper.primary_key[0]
        ordered = list(ids)
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = ordered[start : start + BATCH_SIZE]
            collect_parents_where(
                session, changes, embedded_in(mapper.local_table), child_id.in_(batch), lock=lock
            )


def collect_parents_where(
    session: Session,
    changes: PendingChanges,
    embeddings: list[Embedding],
    criterion: ColumnElement[bool] | None,
    *,
    lock: bool = False,
) -> None:
    """Find the parents of the matching children; ``lock``: lock them now, before the
    children are written."""
    for embedding in embeddings:
        connection = connection_for(session, embedding.parent)
        parent_ids = set(connection.execute(embedding.parent_ids(criterion)).scalars())
        bump(session, changes, embedding.parent, parent_ids, lock=lock)


def bump(
    session: Session, changes: PendingChanges, spec: TableSpec, ids: set[t.Any], *, lock: bool
) -> None:
    """Move the items ``ids`` at commit though this transaction may not write their rows;
    ``lock``: lock them now."""
    changes.items[spec].update(ids)
    changes.bumped[spec].update(ids)
    connection = connection_for(session, spec)
    if lock and backend_for(connection.dialect).takes_row_locks:
        unlocked = ids - changes.locked[spec]
        lock_items(connection, spec, unlocked)
        changes.locked[spec].update(unlocked)


def paths_of_new_rows(
    state: ORMExecuteState, mapper: Mapper[t.Any], embeddings: list[Embedding]
) -> list[tuple[Embedding, ColumnElement[bool] | None]]:
    """The paths along which the rows a bulk ``INSERT`` adds can reach items, each with a
    criterion on the new rows' link columns (``None``: any row).

    Nothing links to a row that did not exist: only a path whose last step's link is a
    column of the new row (one-to-many) reaches items, those the values it takes lead to.
    """
    given: t.Any = state.parameters
    rows: list[Mapping[str, t.Any]] = [given] if isinstance(given, Mapping) else list(given or ())
    return [
        (embedding, _link_values(rows, mapper, embedding.path[-1]))
        for embedding in embeddings
        if embedding.path[-1].direction is ONETOMANY and embedding.path[-1].secondary is None
    ]


def _link_values(
    rows: list[Mapping[str, t.Any]],
    mapper: Mapper[t.Any],
    relationship: RelationshipProperty[t.Any],
) -> ColumnElement[bool] | None:
    """The new rows' values of ``relationship``'s link columns, as a criterion; ``None``
    when the statement's own ``VALUES`` hold them (not read here: any row)."""
    criteria = []
    for _, column in relationship.local_remote_pairs:
        try:
            key = mapper.get_property_by_column(column).key
        except UnmappedColumnError:
            return None
        if not rows or not all(key in row for row in rows):
            return None
        criteria.append(column.in_({row[key] for row in rows}))
    return and_(*criteria)


def connection_for(session: Session, spec: TableSpec) -> Connection:
    return session.connection(bind_arguments={"clause": spec.table})

