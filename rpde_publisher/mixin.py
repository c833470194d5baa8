"""``FeedMixin``: the columns and index that make a declarative model publishable."""

from __future__ import annotations

import typing as t
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import event
from sqlalchemy import FetchedValue
from sqlalchemy import inspect
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import Text
from sqlalchemy import text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import ColumnElement

from . import tracking
from .columns import UTCDateTime
from .migration import prepare_table
from .tables import spec_for
from .tables import TableSpec

__all__ = ["FeedMixin"]

_Self = t.TypeVar("_Self", bound="FeedMixin")


class FeedMixin:
    """Columns that let a model be published as an RPDE feed.

    Adds ``modified``, ``deleted`` and ``rpde_data`` and an index on ``(modified, id)``.
    The database fills ``modified`` on every insert and every change (triggers that
    ``metadata.create_all()`` creates), and ``session.delete(row)`` keeps the row as a
    tombstone. Your code never writes these columns.
    """

    #: The RPDE ``modified`` value: a positive integer that the database raises on
    #: every change, in the order changes become visible. ``0`` until first stamped.
    modified: Mapped[int] = mapped_column(
        BigInteger,
        nullable=False,
        server_default=text("0"),
        server_onupdate=FetchedValue(),
    )
    #: ``None`` while the item is live; the UTC time it became a tombstone.
    deleted: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=None)
    #: The item's ``data`` as rendered JSON, written when the item changes; ``None``
    #: until rendered. Deferred so that your own queries do not load it.
    rpde_data: Mapped[str | None] = mapped_column(
        Text, nullable=True, deferred=True, server_onupdate=FetchedValue()
    )

    @hybrid_property
    def is_live(self) -> bool:
        """Whether the row is live (not a tombstone). Usable in queries too."""
        spec = _spec(type(self))
        key = inspect(type(self)).get_property_by_column(spec.deleted_column).key
        return spec.value_is_live(getattr(self, key))

    @is_live.inplace.expression
    @classmethod
    def _is_live_expression(cls) -> ColumnElement[bool]:
        return _spec(cls).is_live()

    @classmethod
    def live(cls: type[_Self]) -> Select[t.Any]:
        """``select(Model)`` limited to live rows: what your app's own pages should show."""
        return select(cls).where(_spec(cls).is_live())


def _spec(cls: type[t.Any]) -> TableSpec:
    """The feed spec of ``cls``'s table: its ``deleted`` column may be the app's own
    (``rpde.feed(..., deleted=...)``)."""
    spec = spec_for(inspect(cls).local_table)
    assert spec is not None, f"{cls!r} has FeedMixin, so its table is a feed table"
    return spec


@event.listens_for(FeedMixin, "after_mapper_constructed", propagate=True)
def _prepare_feed_table(mapper: Mapper[t.Any], class_: type) -> None:
    if mapper.local_table is not None and mapper.inherits is None:
        prepare_table(mapper.local_table)  # type: ignore[arg-type]
        tracking.install()
