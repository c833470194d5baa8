"""Column types and the clock the feed tables use."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import UTC

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "utcnow"]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored as UTC and always read back timezone-aware.

    PostgreSQL keeps it as ``timestamptz``; SQLite and MySQL, which have no zone, keep
    the UTC wall time. Which is which is said by the type each database gets (its
    ``timezone``), not by naming databases here.
    """

    impl = (
        DateTime(timezone=True)
        .with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
        .with_variant(sqlite.DATETIME(), "sqlite")  # type: ignore[no-untyped-call]
    )
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if getattr(self.impl_instance.dialect_impl(dialect), "timezone", False):
            return value
        return value.replace(tzinfo=None)

    def process_result_value(self, value: t.Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a raw SQLite value a trigger wrote
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return t.cast(datetime, value.replace(tzinfo=UTC))
        return t.cast(datetime, value.astimezone(UTC))


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)
