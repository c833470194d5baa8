"""Embedded children: which parent items a change to a related row must move."""

from __future__ import annotations

import typing as t
from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import bindparam
from sqlalchemy import inspect
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import ONETOMANY
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.sql.elements import ColumnElement

from .errors import ConfigurationError
from .rendering import BATCH_SIZE
from .tables import TableSpec

__all__ = [
    "PARENT_IDS",
    "EmbedPath",
    "Embedding",
    "loader_options",
    "lock_embedded_rows",
    "relationships_of",
    "resolve",
]

#: A relationship path as users write it: ``"place"``, ``"series.organisation"``, or
#: the relationship attributes themselves.
EmbedPath = str | t.Any | Sequence[t.Any]
#: The bound parameter of :attr:`Embedding.embedded_rows`.
PARENT_IDS = "rpde_parent_ids"


@dataclass(frozen=True, eq=False)
class Embedding:
    """One relationship path from a feed's model to a row its items depend on."""

    parent: TableSpec
    parent_model: type[t.Any]
    path: tuple[RelationshipProperty[t.Any], ...]

    @property
    def child_model(self) -> type[t.Any]:
        return self.path[-1].mapper.class_

    def parent_ids(self, child_criterion: ColumnElement[bool] | None) -> Select[t.Any]:
        """Live parent ids whose path reaches a child matching ``child_criterion``."""
        criterion: ColumnElement[bool] = child_criterion if child_criterion is not None else true()
        for relationship in reversed(self.path):
            attribute = relationship.class_attribute
            criterion = (
                attribute.any(criterion) if relationship.uselist else attribute.has(criterion)
            )
        return select(self.parent.id_column).where(criterion, self.parent.is_live())

    @property
    def links_live_in_children(self) -> bool:
        """Whether every step's link is a column of the row it leads to (one-to-many).

        Linking an item to a child then means writing the child (or a row on the way),
        which locks it: its editor waits, and finds the item once it is committed.
        """
        return all(
            relationship.direction is ONETOMANY and relationship.secondary is None
            for relationship in self.path
        )

    def links_outside_items(self, written_tables: Collection[t.Any]) -> bool:
        """Whether a transaction that wrote ``written_tables`` may have linked items to
        children along this path without changing the items' own rows: through a link
        table, or through a row on the way that it wrote."""
        return any(relationship.secondary is not None for relationship in self.path) or any(
            relationship.mapper.local_table in written_tables for relationship in self.path[:-1]
        )

    @cached_property
    def embedded_rows(self) -> Select[t.Any]:
        """The children that the parent ids bound to ``rpde_parent_ids`` reach, locked
        ``FOR SHARE``.

        Rendering an item locks the rows it embeds, so that a transaction editing one of
        them either waits for the render or is waited for. Otherwise an item linked to a
        child in the rendering transaction, which the child's editor cannot see yet, would
        keep the child's old values. Built once: a write renders one item.
        """
        return self._embedded_rows(nowait=False)

    @cached_property
    def embedded_rows_nowait(self) -> Select[t.Any]:
        """:attr:`embedded_rows`, failing at once if a writer holds one of the rows (a read
        storing what it rendered must never wait, see :mod:`rpde_publisher.store`)."""
        return self._embedded_rows(nowait=True)

    def lock_rows(
        self, connection: Connection, parent_ids: Sequence[t.Any], *, nowait: bool = False
    ) -> None:
        """Lock the rows that ``parent_ids`` reach along this path (:attr:`embedded_rows`,
        or :attr:`embedded_rows_nowait`), a batch of parents at a time."""
        statement = self.embedded_rows_nowait if nowait else self.embedded_rows
        for start in range(0, len(parent_ids), BATCH_SIZE):
            batch = list(parent_ids[start : start + BATCH_SIZE])
            connection.execute(statement, {PARENT_IDS: batch}).all()

    @property
    def many_to_one(self) -> bool:
        """Whether every step leads to at most one row (no collection, no link table)."""
        return all(not relationship.uselist for relationship in self.path)

    def leads_into(self, other: Embedding) -> bool:
        """Whether ``other``'s path goes on from the end of this one's."""
        return len(other.path) > len(self.path) and other.path[: len(self.path)] == self.path

    def lock_whole_path(
        self, connection: Connection, parent_ids: Sequence[t.Any], *, nowait: bool = False
    ) -> set[t.Any]:
        """Lock every row along this many-to-one path from ``parent_ids`` in one
        statement a batch; returns the parents whose path reaches its last row (for the
        others nothing is locked: the joins are inner ones)."""
        statement = self._whole_path_nowait if nowait else self._whole_path
        reached: set[t.Any] = set()
        for start in range(0, len(parent_ids), BATCH_SIZE):
            batch = list(parent_ids[start : start + BATCH_SIZE])
            reached.update(connection.execute(statement, {PARENT_IDS: batch}).scalars())
        return reached

    @cached_property
    def _whole_path(self) -> Select[t.Any]:
        return self._embedded_rows(nowait=False, whole_path=True)

    @cached_property
    def _whole_path_nowait(self) -> Select[t.Any]:
        return self._embedded_rows(nowait=True, whole_path=True)

    def _embedded_rows(self, *, nowait: bool, whole_path: bool = False) -> Select[t.Any]:
        parent_id = _primary_key_attribute(self.parent_model)
        targets = [aliased(relationship.mapper.class_) for relationship in self.path]
        child_id = _primary_key_attribute(targets[-1])
        statement = select(parent_id if whole_path else child_id).select_from(self.parent_model)
        source: t.Any = self.parent_model
        for relationship, target in zip(self.path, targets, strict=True):
            statement = statement.join(getattr(source, relationship.key).of_type(target))
            source = target
        # In child id order, so that two renders wait for writers in the same order.
        return (
            statement.where(parent_id.in_(bindparam(PARENT_IDS, expanding=True)))
            .order_by(child_id)
            .with_for_update(
                read=True, nowait=nowait, of=targets if whole_path else targets[-1]
            )
        )

    def loader_option(self) -> ORMOption:
        """Eager loading of the path, so that rendering a batch is not N+1 queries.

        Many-to-one steps are joined into the item's own query; collections are loaded
        with one extra query each. A selectin load per many-to-one step cost more than
        the rest of rendering one item, and a write renders one item.
        """
        first = self.path[0]
        attribute = first.class_attribute
        option = selectinload(attribute) if first.uselist else joinedload(attribute)
        for relationship in self.path[1:]:
            attribute = relationship.class_attribute
            if relationship.uselist:
                option = option.selectinload(attribute)
            else:
                option = option.joinedload(attribute)
        return option


def resolve(model: type[t.Any], parent: TableSpec, embeds: Sequence[EmbedPath]) -> list[Embedding]:
    """Turn the paths given to ``rpde.feed(embeds=...)`` into :class:`Embedding` objects.

    An item depends on every row along a path, not only on its last: a session that
    embeds ``series.organisation`` changes when its series moves to another organisation
    as much as when the organisation opts out. So each leading part of a path is an
    embedding of its own.
    """
    paths: list[tuple[RelationshipProperty[t.Any], ...]] = []
    for declared in embeds:
        relationships = _relationships(model, declared)
        for end in range(1, len(relationships) + 1):
            if relationships[:end] not in paths:
                paths.append(relationships[:end])
    return [Embedding(parent=parent, parent_model=model, path=path) for path in paths]


def loader_options(embeddings: Sequence[Embedding]) -> tuple[ORMOption, ...]:
    """Eager loading of every path, each once: a path that leads on into a longer one
    is loaded by the longer one's option."""
    return tuple(
        item.loader_option()
        for item in embeddings
        if not any(item.leads_into(other) for other in embeddings)
    )


def lock_embedded_rows(
    connection: Connection,
    embeddings: Sequence[Embedding],
    parent_ids: Sequence[t.Any],
    *,
    nowait: bool = False,
) -> None:
    """Lock the rows each of ``embeddings`` reaches from ``parent_ids``, as
    :meth:`Embedding.lock_rows` does.

    A many-to-one path locks the rows of the paths it goes on from in its own statement
    (``facility_use.organisation`` locks the facility too), and those shorter paths are
    locked on their own only for the parents it did not reach (a link left empty on the
    way): a new item costs one statement, not one per path.
    """
    if not parent_ids:
        return
    reached_by_longer: dict[Embedding, set[t.Any]] = {
        item: set()
        for item in embeddings
        if any(item.leads_into(other) and other.many_to_one for other in embeddings)
    }
    for item in embeddings:
        if item in reached_by_longer:
            continue
        shorter = [other for other in reached_by_longer if other.leads_into(item)]
        if item.many_to_one and shorter:
            reached = item.lock_whole_path(connection, parent_ids, nowait=nowait)
            for other in shorter:
                reached_by_longer[other] |= reached
        else:
            item.lock_rows(connection, parent_ids, nowait=nowait)
    for item, reached in reached_by_longer.items():
        rest = [id_ for id_ in parent_ids if id_ not in reached]
        if rest:
            item.lock_rows(connection, rest, nowait=nowait)




def _primary_key_attribute(entity: t.Any) -> t.Any:
    mapper = inspect(entity).mapper
    return getattr(entity, mapper.get_property_by_column(mapper.primary_key[0]).key)


def relationships_of(
    model: type[t.Any], path: EmbedPath
) -> tuple[RelationshipProperty[t.Any], ...]:
    """The relationships ``path`` names, followed from ``model``.

    :raise ConfigurationError: a step names no relationship.
    """
    return _relationships(model, path)


def _relationships(model: type[t.Any], path: EmbedPath) -> tuple[RelationshipProperty[t.Any], ...]:
    steps: Sequence[t.Any]
    if isinstance(path, str):
        steps = path.split(".")
    elif isinstance(path, Sequence):
        steps = path
    else:
        steps = [path]
    relationships: list[RelationshipProperty[t.Any]] = []
    current = model
    for step in steps:
        name = step if isinstance(step, str) else getattr(step, "key", None)
        mapper = inspect(current)
        prop = mapper.relationships.get(name) if name else None
        if prop is None:
            raise ConfigurationError(
                f"embeds={path!r}: {current.__name__} has no relationship {name!r}. Name"
                " relationships, e.g. embeds=['place', 'series.organisation']."
            )
        relationships.append(prop)
        current = prop.mapper.class_
    return tuple(relationships)
