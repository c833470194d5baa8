"""Embedded children: which parent items a change to a related row must move."""

from __future__ import annotations

import typing as t
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import inspect
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.sql.elements import ColumnElement

from .errors import ConfigurationError
from .tables import TableSpec

#: A relationship path as users write it: ``"place"``, ``"series.organisation"``, or
#: the relationship attributes themselves.
EmbedPath = str | t.Any | Sequence[t.Any]


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
        return select(self.parent.id_column).where(criterion, self.parent.deleted_column.is_(None))

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
    """Turn the paths given to ``rpde.feed(embeds=...)`` into :class:`Embedding` objects."""
    return [
        Embedding(parent=parent, parent_model=model, path=_relationships(model, path))
        for path in embeds
    ]


def register(embedding: Embedding) -> None:
    """Let the child's table know which parent items its changes move."""
    child_table = inspect(embedding.child_model).local_table
    embedded_in: list[Embedding] = child_table.info.setdefault("rpde_embedded_in", [])
    if not any(
        existing.parent is embedding.parent and existing.path == embedding.path
        for existing in embedded_in
    ):
        embedded_in.append(embedding)


def embedded_in(table: t.Any) -> list[Embedding]:
    """The embeddings whose last step is ``table``."""
    return t.cast(list[Embedding], table.info.get("rpde_embedded_in", []))


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
