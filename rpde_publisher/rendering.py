"""Render items' ``data`` with their marshmallow schema, from the database's current state."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterable
from collections.abc import Sequence
from decimal import Decimal

from marshmallow import Schema
from sqlalchemy import bindparam
from sqlalchemy import inspect
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from .errors import ConfigurationError

if t.TYPE_CHECKING:
    from .embedding import Embedding
    from .item_checks import ItemCheck

__all__ = ["BATCH_SIZE", "Renderer"]

#: How many items are loaded and rendered per query.
BATCH_SIZE = 500
_IDS = "rpde_ids"


class Renderer:
    """Turns rows of one model into the JSON text of their RPDE ``data``.

    Rendering loads the rows afresh through a private session on the caller's
    connection, so it sees exactly what the database holds in that transaction and
    never the caller's unflushed or stale objects.
    """

    def __init__(
        self,
        model: type[t.Any],
        schema: Schema,
        *,
        feed_name: str,
        load_options: Sequence[ORMOption] = (),
        embeddings: Sequence[Embedding] = (),
    ) -> None:
        self.model = model
        self.schema = schema
        self.feed_name = feed_name
        #: Loader options that load what the data embeds with the rows.
        self.load_options = tuple(load_options)
        #: The related rows the data embeds.
        self.embeddings = tuple(embeddings)
        self._query: tuple[Select[t.Any], str] | None = None

    def render(
        self, connection: Connection, ids: Iterable[t.Any], *, check: ItemCheck | None = None
    ) -> dict[t.Any, str]:
        """The rendered ``data`` of each live row among ``ids``, by id.

        :param check: Called with each item's id and its data as consumers read it
            (parsed back from the JSON): a write's item checks, see
            :mod:`rpde_publisher.item_checks`.
        """
        statement, id_key = self._statement()
        wanted = list(ids)
        rendered: dict[t.Any, str] = {}
        with Session(bind=connection, autoflush=False, join_transaction_mode="rollback_only") as s:
            for start in range(0, len(wanted), BATCH_SIZE):
                batch = wanted[start : start + BATCH_SIZE]
                for row in s.scalars(statement, {_IDS: batch}).all():
                    item_id, text = getattr(row, id_key), self.dumps(row)
                    if check is not None:  # the data as consumers read it: JSON's values
                        check(item_id, json.loads(text))
                    rendered[item_id] = text
                s.expunge_all()
        return rendered

    def _statement(self) -> tuple[Select[t.Any], str]:
        """The load query, built once (a write renders one item, and building the query
        cost a fifth of rendering it)."""
        if self._query is None:
            mapper = inspect(self.model)
            id_attr = getattr(self.model, mapper.primary_key[0].key)
            live = mapper.local_table.info["rpde"].is_live()
            statement = (
                select(self.model)
                .where(id_attr.in_(bindparam(_IDS, expanding=True)), live)
                .options(*self.load_options)
            )
            self._query = (statement, id_attr.key)
        return self._query

    def dumps(self, obj: t.Any) -> str:
        """The JSON text of ``obj``'s ``data``."""
        data = self.schema.dump(obj)
        if not isinstance(data, dict):
            raise ConfigurationError(
                f"The schema of feed {self.feed_name!r} must dump an object (a dict) for the"
                f" item's data, not {type(data).__name__}."
            )
        try:
            return json.dumps(
                data,
                ensure_ascii=False,
                separators=(",", ":"),
                allow_nan=False,
                default=_json_default,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"The schema of feed {self.feed_name!r} produced data that is not JSON: {exc}."
            ) from exc


def _json_default(value: t.Any) -> t.Any:
    if isinstance(value, Decimal):  # marshmallow's Decimal field dumps Decimal objects
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
