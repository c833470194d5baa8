"""item_schema: a typed render function as the marshmallow schema ``rpde.feed()`` takes."""

from __future__ import annotations

import hashlib
import inspect
import typing as t
import weakref
from collections.abc import Callable
from collections.abc import Mapping
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from marshmallow import Schema

from ..pruning import prune
from . import CONTEXT
from . import DateTime
from . import iso_duration

__all__ = ["item_schema", "ItemSchema"]

Row = t.TypeVar("Row")


def _as_json(value: t.Any) -> t.Any:
    """Python's dates, times and durations as OpenActive writes them, at any depth."""
    if isinstance(value, Mapping):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime):
        return DateTime()._serialize(value, None, None)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    return value


class ItemSchema(Schema):
    """A schema whose ``dump(row)`` is ``render(row)`` with ``@context`` and no empty values.

    Made by :func:`item_schema`; subclass it and set :attr:`render` for a named class.
    """

    #: The function from a row to its OpenActive data (a building block such as SessionSeries).
    render: t.ClassVar[Callable[[t.Any], Mapping[str, t.Any]]]

    def dump(self, obj: t.Any, *, many: bool | None = None) -> t.Any:
        """``render(obj)`` (or each of ``obj``'s when ``many``) ready to publish."""
        many = self.many if many is None else many
        if many:
            return [self.dump(item, many=False) for item in obj]
        data = type(self).render(obj)
        if not isinstance(data, Mapping):
            raise TypeError(
                f"{type(self).__name__}'s render function returned {type(data).__name__},"
                " not a dict such as one of rpde_publisher.openactive.models' types."
            )
        rendered = {"@context": CONTEXT} | {k: v for k, v in data.items() if k != "@context"}
        if "@context" in data:  # the user's own context (e.g. with the beta namespace) wins
            rendered["@context"] = data["@context"]
        return prune(_as_json(rendered))


def item_schema(render: Callable[[Row], Mapping[str, t.Any]]) -> ItemSchema:
    """A marshmallow schema for ``rpde.feed(schema=...)`` that publishes ``render(row)``.

    ``render`` returns one of :mod:`rpde_publisher.openactive.models`' TypedDicts, so mypy
    checks its property names and value types. The schema adds ``@context``, writes
    datetimes, dates, times and timedeltas as OpenActive's strings, and drops empty values.
    The same function always gives the same schema class, so feeds sharing a table and a
    render function agree; the class's name carries a hash of the function's source, so
    editing it counts as a schema change (``flask rpde status`` and start-up notice).
    """
    if not callable(render):
        raise TypeError(f"item_schema takes a function from a row to its data, got {render!r}.")
    schema_class = _classes.get(render)
    if schema_class is None:
        schema_class = _classes[render] = _schema_class(render)
    return schema_class()


#: One schema class per render function.
_classes: weakref.WeakKeyDictionary[t.Any, type[ItemSchema]] = weakref.WeakKeyDictionary()


def _schema_class(render: Callable[..., Mapping[str, t.Any]]) -> type[ItemSchema]:
    name = getattr(render, "__name__", "render").title().replace("_", "") + "Schema"
    try:
        source = inspect.getsource(render)
    except (OSError, TypeError):  # no source (a builtin, a REPL): its name must do
        source = f"{getattr(render, '__module__', '')}.{getattr(render, '__qualname__', '')}"
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    # The fingerprints of rpde_publisher.fingerprints read a class without source by its
    # module and qualified name: both say where render is and what it said.
    namespace = {
        "render": staticmethod(render),
        "__module__": getattr(render, "__module__", __name__),
        "__qualname__": f"{getattr(render, '__qualname__', name)}.<{name} {digest}>",
    }
    return type(name, (ItemSchema,), namespace)
