"""Child feeds: an item whose parent leaves the parent's feed leaves its own feed too."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import Table
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import find_tables

from .embedding import EmbedPath
from .embedding import relationships_of
from .errors import ConfigurationError

if t.TYPE_CHECKING:
    from .feed import Feed

__all__ = ["FeedFinder", "ParentLink", "resolve_parent"]

#: Finds the feeds of the same :class:`~rpde_publisher.RPDE` that publish a table.
FeedFinder = Callable[[Table], list["Feed"]]


@dataclass(frozen=True, eq=False)
class ParentLink:
    """A child feed's link to the feed of its parents (its ``superEvent`` or ``facilityUse``).

    OpenActive's consumers (the Test Suite among them) match each child to a live item
    of the parent feed; a child whose parent is deleted, retired or filtered out of its
    feed is an orphan. So the child is published as deleted while its parent is not a
    live item of the parent feed, and moves whenever that can change.
    """

    #: The many-to-one relationship from the child to its parent.
    relationship: RelationshipProperty[t.Any]
    #: The feed that publishes the parents.
    feed: Feed

    def criterion(self) -> ColumnElement[bool]:
        """Rows whose parent is a live item of the parent feed (its filter applied)."""
        live = self.feed.published()
        pairs = self.relationship.local_remote_pairs or []
        if len(pairs) != 1:
            return t.cast(ColumnElement[bool], self.relationship.class_attribute.has(live))
        local, remote = pairs[0]
        # IN (SELECT ...): the database evaluates it once per page, where a correlated
        # EXISTS may run once per item (see docs/performance.md).
        criterion: ColumnElement[bool] = local.in_(select(remote).where(live))
        if local.nullable:
            # A child without a parent is no orphan: it names none.
            criterion = or_(local.is_(None), criterion)
        return criterion

    def embeds(self) -> list[str]:
        """The paths the child embeds so that it moves whenever its parent's state can
        change: the parent itself, and the parent's embedded rows its filter reads (an
        organisation's opt-out flag, say)."""
        name = self.relationship.key
        paths = [name]
        parent_filter = self.feed.publish_when()
        if parent_filter is None:
            return paths
        read = {
            table
            for table in find_tables(parent_filter, check_columns=True, include_aliases=True)
            if isinstance(table, Table)
        }
        for embedding in self.feed.embeddings():
            if embedding.path[-1].mapper.local_table in read:
                paths.append(".".join([name, *(step.key for step in embedding.path)]))
        return paths


def resolve_parent(child: Feed, path: EmbedPath, find_feeds: FeedFinder | None) -> ParentLink:
    """The :class:`ParentLink` that ``parent=`` names, checked.

    :raise ConfigurationError: the path is not one many-to-one relationship to a model
        that exactly one other feed of the same ``RPDE`` publishes.
    """
    try:
        steps = relationships_of(child.model, path)
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"Feed {child.name!r}: parent={path!r} names no relationship of"
            f" {child.model.__name__} ({exc})"
        ) from None
    if len(steps) != 1 or steps[0].uselist:
        raise ConfigurationError(
            f"Feed {child.name!r}: parent={path!r} must name one many-to-one relationship"
            f" of {child.model.__name__} to the parent item, e.g. parent='series'."
        )
    relationship = steps[0]
    table = t.cast(Table, relationship.mapper.local_table)
    if table is child.spec.table:
        raise ConfigurationError(
            f"Feed {child.name!r}: parent={path!r} leads back to the feed's own table."
        )
    feeds = [feed for feed in (find_feeds(table) if find_feeds else []) if feed is not child]
    target = relationship.mapper.class_.__name__
    if not feeds:
        raise ConfigurationError(
            f"Feed {child.name!r}: parent={path!r} leads to {target}, which no feed of this"
            " RPDE publishes. Register the parent's feed (before this one) with the same"
            " RPDE instance."
        )
    if len(feeds) > 1:
        names = ", ".join(sorted(feed.name for feed in feeds))
        raise ConfigurationError(
            f"Feed {child.name!r}: parent={path!r} leads to {target}, which several feeds"
            f" publish ({names}); a child follows one parent feed."
        )
    return ParentLink(relationship, feeds[0])
