"""How each feed table's items are rendered and stored: one registry per ``RPDE`` instance.

An :class:`~rpde_publisher.RPDE` owns a :class:`TableRegistry`: for every table its feeds
publish, the :class:`TableRules` saying which feed's schema renders the stored data, when
(``render_at``), and which rows writes must lock because a read renders them. Rules are
immutable; registering a feed makes new ones.

Change tracking serves every session in the process (see :mod:`~rpde_publisher.tracking`),
so it reads the rules *in force* for a table: those of the registry that registered a
feed of it last (:func:`rules_for`). An app has one ``RPDE``, so that is its own; a test
suite making an ``RPDE`` per test gets the newest one's.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from functools import cached_property
from weakref import WeakKeyDictionary

from sqlalchemy import inspect
from sqlalchemy import Table

from .errors import ConfigurationError
from .item_checks import ItemChecks

if t.TYPE_CHECKING:
    from .embedding import Embedding
    from .feed import Feed
    from .item_checks import ItemCheck
    from .rendering import Renderer
    from .tables import RenderAt
    from .tables import TableSpec

__all__ = [
    "TableRegistry",
    "TableRules",
    "bring_into_force",
    "embedded_in",
    "register_embedding",
    "render_at_of",
    "rules_for",
]

#: The rules change tracking applies to each table (see the module's docstring).
_in_force: WeakKeyDictionary[Table, TableRules] = WeakKeyDictionary()
#: The embedded paths ending at each child table: a change to its rows moves their items.
_embedded_in: WeakKeyDictionary[Table, list[Embedding]] = WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class TableRules:
    """How one table's items are rendered and stored."""

    spec: TableSpec
    #: Every feed of the registry publishing the table, in registration order.
    feeds: tuple[Feed, ...]
    #: The feed whose schema renders the stored data; ``None`` if no feed stores it.
    storing: Feed | None = None
    #: When the stored data is rendered (``rpde.feed(render_at=...)``).
    render_at: RenderAt = "commit"
    #: The registry's item checks (``RPDE_ITEM_CHECKS``).
    checks: ItemChecks | None = None

    @property
    def feed_names(self) -> list[str]:
        """The names of the feeds publishing the table."""
        return sorted(feed.name for feed in self.feeds)

    @property
    def renderer(self) -> Renderer | None:
        """The renderer of the stored data; ``None`` if nothing is stored."""
        return self.storing.renderer if self.storing is not None else None

    @property
    def item_check(self) -> ItemCheck | None:
        """What a write does with the data of the items it changes (see
        :class:`~rpde_publisher.item_checks.ItemChecks`); ``None``: nothing."""
        feed = self.checked_feed
        if self.checks is None or feed is None:
            return None
        renders = self.storing is not None and self.render_at == "commit"
        return self.checks.for_feed(feed, renders=renders)

    @property
    def checked_feed(self) -> Feed | None:
        """The feed whose items the checks render: the storing one, else the first of an
        OpenActive kind (a table whose feeds store no data is checked only under
        ``error``, rendered for the check alone)."""
        return self.storing or next((f for f in self.feeds if f.feed_type is not None), None)

    @cached_property
    def embeddings_to_lock(self) -> tuple[Embedding, ...]:
        """Every embedded path a stored render, or a read rendering the items (feeds with
        ``data=None``), follows: a write locks those rows as a render would. Read at a
        commit, once every mapper is configured."""
        found = list(self.storing.embeddings()) if self.storing is not None else []
        for feed in self.feeds:
            if feed.data_column is None:
                found += [e for e in feed.embeddings() if all(e.path != f.path for f in found)]
        return tuple(found)


class TableRegistry:
    """The rules of every table one ``RPDE`` instance's feeds publish."""

    def __init__(self) -> None:
        self._rules: dict[Table, TableRules] = {}
        #: What writes do with the data they render; configured by ``init_app``.
        self.item_checks = ItemChecks()

    def get(self, table: Table) -> TableRules | None:
        """The rules of ``table``, if a feed of this registry publishes it."""
        return self._rules.get(table)

    def with_feed(self, feed: Feed, render_at: RenderAt) -> TableRules:
        """The rules of ``feed``'s table once ``feed`` is added; refused (raises
        :class:`~rpde_publisher.ConfigurationError`) if the table's feeds disagree."""
        table = feed.spec.table
        current = self._rules.get(table)
        storing = current.storing if current is not None else None
        stored_at = current.render_at if current is not None else render_at
        if feed.data_column is not None:
            if storing is None:
                storing, stored_at = feed, render_at
            elif type(storing.schema) is not type(feed.schema):
                raise ConfigurationError(
                    f"Feed {feed.name!r} renders {table.name!r} with a different schema from"
                    f" feed {storing.name!r}; pass data=None to render it on each request."
                )
            elif stored_at != render_at:
                raise ConfigurationError(
                    f"Feed {feed.name!r} stores {table.name!r}'s data with"
                    f" render_at={render_at!r}; feed {storing.name!r} stores it with"
                    f" render_at={stored_at!r}."
                )
        feeds = (*current.feeds, feed) if current is not None else (feed,)
        return TableRules(feed.spec, feeds, storing, stored_at, self.item_checks)

    def add(self, rules: TableRules) -> None:
        """Keep ``rules`` (from :meth:`with_feed`) and bring them into force."""
        self._rules[rules.spec.table] = rules
        bring_into_force(rules)

    def __iter__(self) -> t.Iterator[TableRules]:
        return iter(self._rules.values())


def bring_into_force(rules: TableRules) -> None:
    """Make ``rules`` the ones change tracking applies to their table."""
    _in_force[rules.spec.table] = rules


def rules_for(table: Table) -> TableRules | None:
    """The rules in force for ``table``; ``None`` if no feed publishes it."""
    return _in_force.get(table)


def render_at_of(spec: TableSpec) -> RenderAt:
    """When the table's stored data is rendered (``"commit"`` if no feed says)."""
    rules = _in_force.get(spec.table)
    return rules.render_at if rules is not None else "commit"


def register_embedding(embedding: Embedding) -> None:
    """Let changes to the rows ``embedding`` reaches move the items that embed them."""
    child_table = t.cast(Table, inspect(embedding.child_model).local_table)
    known = _embedded_in.setdefault(child_table, [])
    if not any(e.parent is embedding.parent and e.path == embedding.path for e in known):
        known.append(embedding)


def embedded_in(table: t.Any) -> list[Embedding]:
    """The embedded paths whose last step is ``table``."""
    return _embedded_in.get(table, [])
