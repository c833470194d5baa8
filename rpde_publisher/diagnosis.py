"""What is wrong with a feed's setup in its database, and the command that fixes it."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .backends import backend_for
from .fingerprints import feed_fingerprints
from .fingerprints import filter_key
from .fingerprints import recorded
from .fingerprints import schema_key
from .fingerprints import triggers_fingerprint
from .fingerprints import triggers_key
from .migration import missing_columns

if t.TYPE_CHECKING:
    from .feed import Feed

__all__ = ["Problem", "diagnose", "setup_problem"]

Severity = t.Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a feed's setup."""

    feed: str
    #: ``table-missing``, ``columns-missing``, ``triggers-missing``, ``triggers-stale``,
    #: ``triggers-unrecorded``, ``unstamped-rows``, ``schema-changed``,
    #: ``filter-changed`` or ``configuration-unrecorded``.
    code: str
    severity: Severity
    #: What is wrong, in words.
    message: str
    #: The command that puts it right.
    fix: str

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}"


def setup_problem(connection: Connection, feed: Feed) -> Problem | None:
    """The problem that stops ``feed`` from being read at all (its table or columns
    missing), or ``None``."""
    missing = missing_columns(connection, feed.spec.table)
    table = feed.spec.table.name
    if missing is None:
        return Problem(
            feed.name,
            "table-missing",
            "error",
            f"Feed {feed.name!r}: table {table!r} does not exist in the database.",
            "create it (db.create_all() or your migrations).",
        )
    if missing:
        return Problem(
            feed.name,
            "columns-missing",
            "error",
            f"Feed {feed.name!r}: table {table!r} has no column {', '.join(missing)} in the"
            " database: the feed cannot be read.",
            f"`flask rpde adopt {feed.name}` (or rpde_publisher.migration.add_columns() in a"
            " migration, then `flask rpde backfill`).",
        )
    return None


def diagnose(connection: Connection, feed: Feed) -> list[Problem]:
    """Everything wrong with ``feed``'s setup: missing columns or triggers, triggers from
    another version or another set of columns, rows without a stamp, and a schema or
    ``publish_when`` changed since its items were rendered."""
    blocking = setup_problem(connection, feed)
    if blocking is not None:
        return [blocking]
    spec = feed.spec
    backend = backend_for(connection.dialect)
    fingerprints = recorded(connection)
    problems = []
    name, table = feed.name, spec.table.name
    if not backend.is_installed(spec, connection):
        problems.append(
            Problem(
                name,
                "triggers-missing",
                "error",
                f"Feed {name!r}: the triggers that stamp {table!r} are missing: changes do not"
                " move items, and tracked writes leave them unstamped.",
                f"`flask rpde install {name}`, then `flask rpde backfill {name}`.",
            )
        )
    else:
        wanted = triggers_fingerprint(backend.ddl(spec, connection.dialect))
        installed = fingerprints.get(triggers_key(spec.table))
        if installed is None:
            problems.append(
                Problem(
                    name,
                    "triggers-unrecorded",
                    "warning",
                    f"Feed {name!r}: the triggers on {table!r} were not installed by this"
                    " version, so they may be out of date.",
                    f"`flask rpde install {name}` replaces them and records them.",
                )
            )
        elif installed != wanted:
            problems.append(
                Problem(
                    name,
                    "triggers-stale",
                    "error",
                    f"Feed {name!r}: the triggers on {table!r} differ from what this version"
                    " and these columns need (a column added since, or an upgrade): some"
                    " changes may not move items.",
                    f"`flask rpde install {name}`.",
                )
            )
    unstamped = connection.execute(
        select(func.count()).select_from(spec.table).where(spec.modified_column <= 0)
    ).scalar_one()
    if unstamped:
        problems.append(
            Problem(
                name,
                "unstamped-rows",
                "error",
                f"Feed {name!r}: {unstamped} row(s) of {table!r} have no stamp (rows from"
                " before adoption, or written while the triggers were missing); the feed"
                " does not show them.",
                f"`flask rpde backfill {name}`.",
            )
        )
    problems += configuration_problems(fingerprints, feed)
    return problems


def configuration_problems(fingerprints: t.Mapping[str, str], feed: Feed) -> list[Problem]:
    """The schema or filter of ``feed`` changed since its items were rendered."""
    name = feed.name
    current = feed_fingerprints(feed)
    schema, criterion = current[schema_key(name)], current[filter_key(name)]
    was_schema, was_criterion = (
        fingerprints.get(schema_key(name)),
        fingerprints.get(filter_key(name)),
    )
    if was_schema is None or was_criterion is None:
        return [
            Problem(
                name,
                "configuration-unrecorded",
                "warning",
                f"Feed {name!r}: what its items were rendered and filtered with is not"
                " recorded (a table made before this version, or outside create_all), so a"
                " change to its schema or publish_when would go unnoticed.",
                f"`flask rpde render {name}`: it moves any item whose data or state changed,"
                " and records the configuration.",
            )
        ]
    problems = []
    if was_criterion != criterion:
        problems.append(
            Problem(
                name,
                "filter-changed",
                "error",
                f"Feed {name!r}: its publish_when changed since its items were published:"
                " items it now rejects (or admits) have not moved, so consumers past them"
                " keep the old state.",
                f"`flask rpde render {name}`.",
            )
        )
    if was_schema != schema:
        problems.append(
            Problem(
                name,
                "schema-changed",
                "error",
                f"Feed {name!r}: its schema changed since its items were rendered: items"
                " whose data changes have not moved, so consumers past them keep the old"
                " data.",
                f"`flask rpde render {name}`.",
            )
        )
    return problems
