"""``Feed``: one registered RPDE feed, and the registry of an extension's feeds."""

from __future__ import annotations

import typing as t
import warnings
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

from marshmallow import Schema
from sqlalchemy import and_
from sqlalchemy import inspect
from sqlalchemy import Table
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import ColumnElement

from . import embedding
from . import tracking
from .errors import ConfigurationError
from .feed_columns import expires_expression
from .feed_columns import feed_spec
from .kinds import default_feed_name
from .kinds import feed_type_for_kind
from .kinds import FeedType
from .ownership import OrganisationRule
from .ownership import Ownership
from .ownership import ownership_for
from .parents import FeedFinder
from .parents import ParentLink
from .parents import resolve_parent
from .registry import register_embedding
from .registry import rules_for
from .rendering import Renderer
from .settings import as_retention
from .settings import SPEC_MINIMUM_RETENTION
from .tables import Ordering
from .tables import RenderAt
from .tables import TableSpec

__all__ = ["Criterion", "Feed", "FeedRegistry", "build_feed"]

#: ``publish_when`` may be a criterion or a function returning one, for criteria that
#: use relationships of models defined later.
Criterion = ColumnElement[bool] | Callable[[], ColumnElement[bool]]


@dataclass(eq=False)
class Feed:
    """One RPDE feed: a model, the ``kind`` of its items and how their data is rendered.

    Returned by :meth:`rpde_publisher.RPDE.feed`; do not create it directly.
    """

    #: The feed's URL name, e.g. ``"session-series"``.
    name: str
    #: The mapped class whose rows are the items.
    model: type[t.Any]
    #: The RPDE ``kind`` of every item, e.g. ``"SessionSeries"``.
    kind: str
    #: The marshmallow schema that renders an item's ``data``.
    schema: Schema
    #: ``"modified"`` (``afterTimestamp``/``afterId``) or ``"change_number"``.
    ordering: Ordering
    #: The table's feed columns and rules.
    spec: TableSpec
    #: The OpenActive feed type, when the kind is one OpenActive knows.
    feed_type: FeedType | None
    #: The column this feed's rendered data is stored in; ``None`` renders on request.
    data_column: t.Any = None
    #: Tombstones of this feed are purged once this old; ``None`` uses
    #: :data:`RPDE_TOMBSTONE_RETENTION`.
    retention: timedelta | None = None
    #: Each item's end time (a column or SQL expression), for ``flask rpde retire``.
    expires: ColumnElement[t.Any] | None = None
    #: Which organisation each row belongs to (``organisation=``); ``None`` if the feed
    #: is not published per organisation.
    organisation: Ownership | None = None
    _publish_when: Criterion | None = None
    _embeds: Sequence[embedding.EmbedPath] = ()
    _embeddings: list[embedding.Embedding] | None = field(default=None, repr=False)
    #: ``parent=``: the relationship to each item's parent in another feed.
    _parent: embedding.EmbedPath | None = None
    _find_feeds: FeedFinder | None = field(default=None, repr=False)
    _parent_link: ParentLink | None = field(default=None, repr=False)
    _renderer: Renderer | None = field(default=None, repr=False)

    @property
    def id_is_integer(self) -> bool:
        """Whether item ids are integers (else strings)."""
        return self.spec.id_is_integer

    def publish_when(self) -> ColumnElement[bool] | None:
        """The in-stream filter: rows it rejects are published as tombstones.

        With ``parent=``, it also rejects rows whose parent is not a live item of the
        parent's feed (see :class:`~rpde_publisher.parents.ParentLink`).
        """
        criterion = self._publish_when
        if criterion is not None and not isinstance(criterion, ColumnElement):
            criterion = criterion()
        link = self.parent_link()
        if link is None:
            return criterion
        follows = link.criterion()
        return follows if criterion is None else and_(criterion, follows)

    def published(self) -> ColumnElement[bool]:
        """The rows the feed publishes live: not tombstones, and passing ``publish_when``."""
        criterion = self.publish_when()
        live = self.spec.is_live()
        return live if criterion is None else and_(live, criterion)

    def parent_link(self) -> ParentLink | None:
        """The link to the feed of each item's parent (``parent=``), resolved on first use."""
        if self._parent is None:
            return None
        if self._parent_link is None:
            self._parent_link = resolve_parent(self, self._parent, self._find_feeds)
        return self._parent_link

    def embeddings(self) -> list[embedding.Embedding]:
        """The declared embedded children, resolved against the configured mappers; with
        ``parent=``, also the parent and what decides whether it is published."""
        if self._embeddings is None:
            link = self.parent_link()
            declared = [*self._embeds, *(link.embeds() if link is not None else ())]
            self._embeddings = embedding.resolve(self.model, self.spec, declared)
        return self._embeddings

    def configure(self) -> None:
        """Resolve embeds, connect them to change tracking, and build the renderer.

        Runs once the model's mappers are configured; safe to call more than once.
        """
        # Not `_embeddings`: a child feed may resolve this feed's embeddings first.
        if self._renderer is not None:
            return
        embeddings = self.embeddings()
        for item in embeddings:
            register_embedding(item)
        self._renderer = Renderer(
            self.model,
            self.schema,
            feed_name=self.name,
            load_options=embedding.loader_options(embeddings),
            embeddings=embeddings,
        )

    @property
    def renderer(self) -> Renderer:
        """Renders this feed's items with its schema, loading what they embed at once."""
        if self._renderer is None:
            configure_mappers()  # configures this feed too, once every mapper is
            self.configure()
        assert self._renderer is not None
        return self._renderer


def build_feed(
    model: type[t.Any],
    *,
    kind: str,
    schema: Schema | type[Schema],
    name: str | None,
    ordering: Ordering,
    modified: t.Any,
    deleted: t.Any,
    data: t.Any,
    publish_when: Criterion | None,
    embeds: Sequence[embedding.EmbedPath],
    retention: t.Any,
    expires: t.Any,
    organisation: OrganisationRule | None = None,
    render_at: RenderAt = "commit",
    parent: embedding.EmbedPath | None = None,
    find_feeds: FeedFinder | None = None,
) -> Feed:
    """Check ``rpde.feed()``'s arguments and prepare the model's table.

    :param find_feeds: Finds the other feeds publishing a table (for ``parent=``).
    """
    if not isinstance(kind, str) or not kind:
        raise ConfigurationError(
            "rpde.feed() needs kind=, the RPDE kind of the items, e.g. 'SessionSeries'."
        )
    if ordering not in ("modified", "change_number"):
        raise ConfigurationError(
            f"ordering must be 'modified' or 'change_number', got {ordering!r}."
        )
    if render_at not in ("commit", "read"):
        raise ConfigurationError(f"render_at must be 'commit' or 'read', got {render_at!r}.")
    if isinstance(schema, type) and issubclass(schema, Schema):
        schema = schema()
    if not isinstance(schema, Schema):
        raise ConfigurationError(
            f"schema must be a marshmallow Schema instance or class, got {schema!r}."
        )
    try:
        mapper: Mapper[t.Any] = inspect(model)
    except Exception:
        raise ConfigurationError(f"{model!r} is not a mapped SQLAlchemy class.") from None
    table = t.cast(Table, mapper.local_table)
    feed_name = name or default_feed_name(kind)
    ownership = ownership_for(organisation, table, feed_name)
    spec = feed_spec(table, feed_name, modified=modified, deleted=deleted, data=data)
    end_time = expires_expression(expires, table, feed_name)
    spec = _with_ordering(spec, ordering, feed_name)
    tracking.install()  # the feed's rows are followed through every session from now on
    feed_retention = None
    if retention is not None:
        feed_retention = as_retention(retention, f"retention of feed {feed_name!r}")
        if feed_retention < SPEC_MINIMUM_RETENTION:
            warnings.warn(
                f"Feed {feed_name!r} keeps tombstones for {feed_retention}, less than the 7"
                " days RPDE 1.0 requires; OpenActive allows 2 days only for high-volume"
                " Slot feeds.",
                stacklevel=3,
            )
    return Feed(
        name=feed_name,
        model=model,
        kind=kind,
        schema=schema,
        ordering=ordering,
        spec=spec,
        feed_type=feed_type_for_kind(kind),
        data_column=spec.data_column if data is not None else None,
        retention=feed_retention,
        expires=end_time,
        organisation=ownership,
        _publish_when=publish_when,
        _embeds=tuple(embeds),
        _parent=parent,
        _find_feeds=find_feeds,
    )


def _with_ordering(spec: TableSpec, ordering: Ordering, feed_name: str) -> TableSpec:
    """``spec`` with ``ordering``: a table published by a feed keeps its ordering."""
    if spec.ordering == ordering:
        return spec
    rules = rules_for(spec.table)
    if rules is not None:
        raise ConfigurationError(
            f"Table {spec.table.name!r} is already published with ordering={spec.ordering!r};"
            f" feed {feed_name!r} cannot use ordering={ordering!r} on the same table."
        )
    return spec.replaced(ordering=ordering)


class FeedRegistry:
    """The feeds of one :class:`~rpde_publisher.RPDE` instance, by name."""

    def __init__(self) -> None:
        self._feeds: dict[str, Feed] = {}

    def add(self, feed: Feed) -> None:
        if feed.name in self._feeds:
            raise ConfigurationError(
                f"A feed named {feed.name!r} is already registered; pass name= to give"
                " this one another URL name."
            )
        if not feed.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigurationError(
                f"Feed name {feed.name!r} must contain only letters, digits, '-' and '_'."
            )
        self._feeds[feed.name] = feed

    def get(self, name: str) -> Feed | None:
        return self._feeds.get(name)

    def __iter__(self) -> Iterator[Feed]:
        return iter(self._feeds.values())

    def __len__(self) -> int:
        return len(self._feeds)

    def __contains__(self, name: object) -> bool:
        return name in self._feeds
