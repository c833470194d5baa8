"""``Feed``: one registered RPDE feed, and the registry of an extension's feeds."""

from __future__ import annotations

import typing as t
import warnings
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from marshmallow import Schema
from sqlalchemy import and_
from sqlalchemy import inspect
from sqlalchemy import Table
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from . import embedding
from . import tracking
from .errors import ConfigurationError
from .kinds import default_feed_name
from .kinds import feed_type_for_kind
from .kinds import FeedType
from .ownership import OrganisationRule
from .ownership import Ownership
from .ownership import ownership_for
from .parents import FeedFinder
from .parents import ParentLink
from .parents import resolve_parent
from .rendering import Renderer
from .settings import as_retention
from .settings import SPEC_MINIMUM_RETENTION
from .tables import Ordering
from .tables import prepare_table
from .tables import RenderAt
from .tables import spec_for
from .tables import TableSpec

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
    #: Renders this feed's items with its schema.
    renderer: Renderer
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
    _configured: bool = field(default=False, repr=False)

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
        """Resolve embeds and connect them to change tracking and rendering.

        Runs once the model's mappers are configured; safe to call more than once.
        """
        # Not `_embeddings`: a child feed may resolve this feed's embeddings first.
        if self._configured:
            return
        embeddings = self.embeddings()
        for item in embeddings:
            embedding.register(item)
        if self.data_column is None:  # rendered on every read: writes lock what it embeds
            known = self.spec.read_embeddings
            known += [item for item in embeddings if all(e.path != item.path for e in known)]
        options = embedding.loader_options(embeddings)
        renderers = {self.renderer}
        if self.spec.renderer is not None and self.spec.renderer.schema is self.schema:
            renderers.add(self.spec.renderer)
        for renderer in renderers:
            renderer.load_options = options
            renderer.embeddings = tuple(embeddings)
        self._configured = True


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
    spec = _feed_spec(table, feed_name, modified=modified, deleted=deleted, data=data)
    expires_expression = _expires_expression(expires, table, feed_name)
    if spec.feed_names and spec.ordering != ordering:
        raise ConfigurationError(
            f"Table {table.name!r} is already published with ordering={spec.ordering!r};"
            f" feed {feed_name!r} cannot use ordering={ordering!r} on the same table."
        )
    spec.ordering = ordering
    renderer = Renderer(model, schema, feed_name=feed_name)
    data_column = None
    if data is not None and spec.data_column is not None:
        # One stored data column per table: the feed that stores it owns its schema. The
        # same feed registered again (another app's RPDE instance) takes over.
        if spec.renderer is None or spec.feed_names == {feed_name}:
            spec.renderer = renderer
        elif type(spec.renderer.schema) is not type(schema):
            raise ConfigurationError(
                f"Feed {feed_name!r} renders {table.name!r} with a different schema from feed"
                f" {sorted(spec.feed_names)}; pass data=None to render it on each request."
            )
        if spec.renderer is renderer:
            spec.render_at = render_at
        elif spec.render_at != render_at:
            raise ConfigurationError(
                f"Feed {feed_name!r} stores {table.name!r}'s data with render_at={render_at!r};"
                f" feed {sorted(spec.feed_names)} stores it with render_at={spec.render_at!r}."
            )
        data_column = spec.data_column
    spec.feed_names.add(feed_name)
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
        renderer=renderer,
        data_column=data_column,
        retention=feed_retention,
        expires=expires_expression,
        organisation=ownership,
        _publish_when=publish_when,
        _embeds=tuple(embeds),
        _parent=parent,
        _find_feeds=find_feeds,
    )


def _column_name(value: t.Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    key = getattr(value, "key", None) or getattr(value, "name", None)
    if isinstance(key, str):
        expression = getattr(value, "expression", None)
        name = getattr(expression, "name", None)
        return name if isinstance(name, str) else key
    raise ConfigurationError(f"Expected a column or a column name, got {value!r}.")


def _feed_spec(
    table: Table, feed_name: str, *, modified: t.Any, deleted: t.Any, data: t.Any
) -> TableSpec:
    """The table's feed spec, with the columns this feed names; every conflict with
    ``FeedMixin`` or with another feed of the table is refused here, not at a commit."""
    wanted_modified = _column_name(modified, "modified")
    wanted_deleted = _column_name(deleted, "deleted")
    wanted_data = None if data is None else _column_name(data, "rpde_data")
    for name, role in ((wanted_modified, "modified"), (wanted_deleted, "deleted")):
        if name not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: table {table.name!r} has no column {name!r} for the"
                f" feed's {role} value; add FeedMixin to the model or pass {role}=<column>"
                " to rpde.feed()."
            )
    check_modified_column(table.c[wanted_modified], feed_name)
    check_deleted_column(table.c[wanted_deleted], feed_name)
    spec = spec_for(table)
    if spec is None:
        return prepare_table(
            table, modified=wanted_modified, deleted=wanted_deleted, data=wanted_data
        )
    owner = f"feed(s) {sorted(spec.feed_names)}" if spec.feed_names else "FeedMixin"
    if modified is not None and wanted_modified != spec.modified_column.name:
        raise ConfigurationError(
            f"Feed {feed_name!r}: {owner} already stamp{'' if spec.feed_names else 's'}"
            f" table {table.name!r} in column {spec.modified_column.name!r}; a table has one"
            f" stamp. Drop modified={wanted_modified!r}, or drop FeedMixin and name your own"
            " columns."
        )
    if deleted is not None and wanted_deleted != spec.deleted_column.name:
        if spec.feed_names:
            raise ConfigurationError(
                f"Feed {feed_name!r}: {owner} already mark tombstones of {table.name!r} in"
                f" column {spec.deleted_column.name!r}, not {wanted_deleted!r}."
            )
        # The app's own soft-delete column decides, and the mixin's stays unused.
        spec.deleted_column = table.c[wanted_deleted]
    current_data = spec.data_column.name if spec.data_column is not None else None
    if wanted_data is not None and wanted_data != current_data:
        if wanted_data not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: table {table.name!r} has no column {wanted_data!r} for"
                " the feed's data; pass data=None to render each item on every read."
            )
        if spec.feed_names:
            raise ConfigurationError(
                f"Feed {feed_name!r}: {owner} already store {table.name!r}'s data in"
                f" column {current_data!r}, not {wanted_data!r}."
            )
        spec.data_column = table.c[wanted_data]
    return spec


def check_modified_column(column: t.Any, feed_name: str) -> None:
    """Refuse a ``modified`` column the toolkit cannot own as its stamp."""
    python_type = _python_type(column)
    integer = python_type is not None and issubclass(python_type, int)
    if integer and python_type is not bool and not column.primary_key:
        return
    raise ConfigurationError(
        f"Feed {feed_name!r}: modified={column.table.name}.{column.name} is a"
        f" {column.type!r} column. RPDE's `modified` must be a stamp the toolkit owns: an"
        " integer that the database raises on every change, in the order the changes"
        " become visible. That is what keeps a consumer from missing an item that a slower"
        " transaction commits late (docs/guarantee.md); a time the app writes, such as"
        " updated_at, cannot promise it. Keep your column as it is and add an integer one"
        " beside it: FeedMixin adds `modified`, or declare"
        " `modified = mapped_column(BigInteger, nullable=False, server_default='0')` and"
        " pass modified=Model.modified; `flask rpde adopt` adds it to an existing table."
    )


def check_deleted_column(column: t.Any, feed_name: str) -> None:
    """Refuse a ``deleted`` column that is neither a timestamp nor a boolean flag."""
    python_type = _python_type(column)
    if python_type is not None and issubclass(python_type, (datetime, bool)):
        return
    raise ConfigurationError(
        f"Feed {feed_name!r}: deleted={column.table.name}.{column.name} is a"
        f" {column.type!r} column; it must be a timestamp (NULL while the row is live) or"
        " a boolean soft-delete flag."
    )


def _python_type(column: t.Any) -> type | None:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        return t.cast(type, type_.python_type)
    except NotImplementedError:
        return None


def _expires_expression(expires: t.Any, table: Table, feed_name: str) -> t.Any:
    """``expires=`` as SQL: a column name, a column or attribute, or an SQL expression."""
    if expires is None:
        return None
    if isinstance(expires, str):
        if expires not in table.c:
            raise ConfigurationError(
                f"Feed {feed_name!r}: expires={expires!r} names no column of {table.name!r}."
            )
        return table.c[expires]
    clause = getattr(expires, "__clause_element__", None)
    expression = clause() if callable(clause) else expires
    if isinstance(expression, ColumnElement):
        return expression
    raise ConfigurationError(
        f"Feed {feed_name!r}: expires= must be a column (Model.end), a column name or an SQL"
        f" expression giving each item's end time, got {expires!r}."
    )


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
