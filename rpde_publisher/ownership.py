"""Per-organisation feeds: which organisation each row of a feed belongs to."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import bindparam
from sqlalchemy import Column
from sqlalchemy import Table
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.elements import ColumnElement

from .errors import ConfigurationError
from .move_guard import guard_organisation_column

__all__ = [
    "KEY_PARAMETER",
    "OrganisationCriterion",
    "OrganisationRule",
    "Ownership",
    "ownership_for",
]

#: The bound parameter every organisation criterion compares with: one statement per feed
#: and cursor shape serves every organisation.
KEY_PARAMETER = "rpde_organisation"
#: Integer keys beyond a 64-bit integer cannot name a row (and would fail in the driver).
_MAX_INTEGER_KEY = 2**63 - 1

#: A function from an organisation's key (a SQL bound parameter) to the criterion that
#: selects that organisation's rows, e.g.
#: ``lambda key: Session.series_id.in_(select(Series.id).where(Series.organisation_id == key))``.
OrganisationCriterion = Callable[[BindParameter[t.Any]], ColumnElement[bool]]
#: ``organisation=`` of :meth:`rpde_publisher.RPDE.feed`: a column of the feed's own table
#: holding each row's organisation key (a mapped attribute, a ``Column`` or its name), or
#: an :data:`OrganisationCriterion`.
OrganisationRule = Column[t.Any] | QueryableAttribute[t.Any] | str | OrganisationCriterion


@dataclass(eq=False)
class Ownership:
    """How the rows of one feed belong to organisations: ``organisation=`` resolved."""

    feed_name: str
    #: The feed table's column holding each row's organisation key, for a column rule.
    column: Column[t.Any] | None = None
    #: The function building the criterion, for a function rule.
    function: OrganisationCriterion | None = None
    _criterion: ColumnElement[bool] | None = field(default=None, repr=False)
    _key_type: type | None = field(default=None, repr=False)

    def criterion(self) -> ColumnElement[bool]:
        """The rows of the organisation whose key is bound to :data:`KEY_PARAMETER`.

        Built on first use (a function rule may name models defined after the feed) and
        kept: the key is a parameter, never part of the SQL.
        """
        if self._criterion is None:
            key: BindParameter[t.Any] = bindparam(KEY_PARAMETER)
            criterion = self.column == key if self.column is not None else self._call(key)
            self._key_type = _key_type(criterion, self.feed_name)
            self._criterion = criterion
        return self._criterion

    def key_value(self, key: str) -> t.Any | None:
        """The value a URL's ``key`` binds as; ``None`` if no row could belong to it.

        An integer rule takes only the canonical spelling (``"7"``, not ``"07"``), so each
        organisation has one feed URL.
        """
        self.criterion()
        wanted = self._key_type
        if wanted is None or wanted is str:
            return key
        if wanted is int:
            if not (key.isascii() and key.isdigit()) or str(int(key)) != key:
                return None
            value = int(key)
            return value if value <= _MAX_INTEGER_KEY else None
        try:
            return wanted(key)
        except (TypeError, ValueError, ArithmeticError):
            return None

    def _call(self, key: BindParameter[t.Any]) -> ColumnElement[bool]:
        assert self.function is not None
        try:
            criterion = self.function(key)
        except Exception as exc:
            raise ConfigurationError(
                f"organisation= of feed {self.feed_name!r} failed: {exc!r}. The function"
                " receives the organisation's key as a SQL bound parameter, not as text: use"
                " it only inside the criterion, e.g. `lambda key: Model.organisation_id =="
                " key`."
            ) from exc
        if not isinstance(criterion, ColumnElement):
            raise ConfigurationError(
                f"organisation= of feed {self.feed_name!r} must return a SQL criterion such"
                f" as `Model.organisation_id == key`, got {criterion!r}."
            )
        return criterion


def ownership_for(rule: OrganisationRule | None, table: Table, feed_name: str) -> Ownership | None:
    """Check ``rpde.feed(organisation=...)`` and resolve it against the feed's table."""
    if rule is None:
        return None
    column = _column_of(rule, table, feed_name)
    if column is not None:
        guard_organisation_column(table, column.name)
        return Ownership(feed_name, column=column)
    if callable(rule):
        return Ownership(feed_name, function=rule)
    raise ConfigurationError(
        f"organisation= of feed {feed_name!r} must be a column of {table.name!r} holding each"
        " row's organisation key (e.g. Model.organisation_id), or a function from the key to"
        f" a SQL criterion; got {rule!r}."
    )


def _column_of(rule: t.Any, table: Table, feed_name: str) -> Column[t.Any] | None:
    """The feed table's column that ``rule`` names, or ``None`` if it names no column."""
    if isinstance(rule, str):
        name = rule
    else:
        expression: t.Any = rule if isinstance(rule, Column) else None
        if isinstance(rule, QueryableAttribute) and isinstance(rule.property, ColumnProperty):
            expression = rule.property.columns[0]
        if expression is None:
            return None
        if getattr(expression, "table", None) is not table:
            raise ConfigurationError(
                f"organisation= of feed {feed_name!r} names {expression}, which is not a column"
                f" of the feed's table {table.name!r}. For an organisation reached through"
                " another table, pass a function: `lambda key: Model.parent_id.in_("
                "select(Parent.id).where(Parent.organisation_id == key))`."
            )
        name = str(expression.name)
    column = table.c.get(name)
    if not isinstance(column, Column):
        raise ConfigurationError(
            f"organisation= of feed {feed_name!r}: table {table.name!r} has no column {name!r}."
        )
    return column


def _key_type(criterion: ColumnElement[bool], feed_name: str) -> type | None:
    """The Python type the criterion compares its key as (``None``: the key's text)."""
    types: set[type | None] = set()
    for element in visitors.iterate(criterion):
        if isinstance(element, BindParameter) and element.key == KEY_PARAMETER:
            try:
                python_type: type | None = element.type.python_type
            except NotImplementedError:
                python_type = None
            # An untyped key (NullType says `object`) binds as the URL's text.
            types.add(None if python_type is object else python_type)
    if not types:
        raise ConfigurationError(
            f"organisation= of feed {feed_name!r} returned a criterion that does not use its"
            " key, so every organisation would get the same rows."
        )
    known = types - {None}
    if len(known) > 1:
        names = ", ".join(sorted(kind.__name__ for kind in known if kind is not None))
        raise ConfigurationError(
            f"organisation= of feed {feed_name!r} compares its key as different types ({names})."
        )
    return known.pop() if known else None
