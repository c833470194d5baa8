"""Compare a harvested copy with the database: no item skipped, none stale."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..cursor import Cursor
from ..cursor import parse_cursor
from ..cursor import START
from ..diagnosis import diagnose
from ..diagnosis import Problem
from ..errors import InvalidCursorError
from ..feed import Feed
from ..harvest import LocalCopy
from ..query import fetch_rows
from ..query import ItemRow
from ..rendering import Renderer
from .checks import examples
from .findings import Finding
from .findings import Severity
from .rules import severity_of

__all__ = ["BATCH", "DatabaseComparison"]

#: Rows read per query while reading the whole feed from the database.
BATCH = 1000


@dataclass
class DatabaseComparison:
    """Checks a copy harvested from ``feed`` against what the feed would publish now.

    Only items at or before the walk's last page are compared: anything written after
    the walk passed has moved beyond it, and a consumer would read it on its next poll.

    :param connect: Opens a connection to the feed's database (a context manager).
    :param settle_seconds: :data:`RPDE_SETTLE_SECONDS`, as the feed applies it.
    """

    feed: Feed
    connect: Callable[[], AbstractContextManager[Connection]]
    settle_seconds: float

    def __call__(self, copy: LocalCopy, last_url: str) -> tuple[list[Finding], int]:
        final = self._cursor(last_url)
        with self.connect() as connection:
            problems = diagnose(connection, self.feed)
            if any(p.code in ("table-missing", "columns-missing") for p in problems):
                return [self._setup_finding(problem, last_url) for problem in problems], 0
            published, beyond = self._published(connection, final)
            live = [row for row in published if row.live]
            rendered = self._renderer().render(connection, [row.id for row in live])
            published_ids = {row.id for row in published}
            kept_elsewhere = self._missing_ids(
                connection, [item.id for item in copy if item.id not in published_ids]
            )
        findings = [self._setup_finding(problem, last_url) for problem in problems]
        add = self._adder(findings, last_url)
        skipped = [row.id for row in live if row.id not in copy]
        if skipped:
            add(
                "database-skipped",
                f"{len(skipped)} live item(s) in the database, at or before the last page, are"
                f" missing from the harvested copy: ids {examples(skipped)}. A consumer has"
                " skipped them for good.",
            )
        kept = [row.id for row in published if not row.live and row.id in copy]
        kept += [item_id for item_id in kept_elsewhere if item_id not in beyond]
        if kept:
            add(
                "database-skipped",
                f"{len(kept)} item(s) the database holds as deleted (or no longer has) are"
                f" still in the harvested copy: ids {examples(kept)}. Their tombstones were"
                " never seen.",
            )
        differs = [
            row.id
            for row in live
            if row.data is not None and _harvested(copy, row.id) not in (None, json.loads(row.data))
        ]
        if differs:
            add(
                "database-stale",
                f"{len(differs)} harvested item(s) differ from what the feed publishes now at"
                f" the same position: ids {examples(differs)}. Their data changed without"
                " moving them to the end of the feed.",
            )
        outdated = [
            row.id
            for row in live
            if row.id in rendered
            and row.data is not None
            and json.loads(row.data) != json.loads(rendered[row.id])
        ]
        if outdated:
            add(
                "database-stale",
                f"{len(outdated)} published item(s) no longer match what their schema renders"
                f" from the database: ids {examples(outdated)}. A row they embed changed"
                " outside the ORM or is not declared in embeds=; run `flask rpde render`.",
            )
        return findings, len(live)

    def _cursor(self, last_url: str) -> Cursor:
        query = parse_qs(urlsplit(last_url).query, keep_blank_values=True)
        try:
            return parse_cursor(
                query, ordering=self.feed.ordering, integer_ids=self.feed.id_is_integer
            )
        except InvalidCursorError:
            return START

    def _published(self, connection: Connection, final: Cursor) -> tuple[list[ItemRow], set[t.Any]]:
        """The rows up to ``final``, and the ids of the rows after it, in the feed's order."""
        rows: list[ItemRow] = []
        cursor = START
        while True:
            batch = fetch_rows(
                connection, self.feed, cursor, BATCH, settle_seconds=self.settle_seconds
            )
            rows.extend(batch)
            if len(batch) < BATCH:
                break
            last = batch[-1]
            cursor = Cursor(
                last.modified, None if self.feed.ordering == "change_number" else last.id
            )
        if final.is_start:  # the feed was empty when walked: everything came later
            return [], {row.id for row in rows}
        first_beyond = fetch_rows(
            connection, self.feed, final, 1, settle_seconds=self.settle_seconds
        )
        if not first_beyond:
            return rows, set()
        boundary = next(
            (index for index, row in enumerate(rows) if row.id == first_beyond[0].id), len(rows)
        )
        return rows[:boundary], {row.id for row in rows[boundary:]}

    def _missing_ids(self, connection: Connection, ids: list[t.Any]) -> list[t.Any]:
        """Those of ``ids`` whose row is gone from the table altogether."""
        if not ids:
            return []
        id_column = self.feed.spec.id_column
        found: set[t.Any] = set()
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            found.update(connection.scalars(select(id_column).where(id_column.in_(batch))))
        return [item_id for item_id in ids if item_id not in found]

    def _renderer(self) -> Renderer:
        return self.feed.renderer

    @staticmethod
    def _setup_finding(problem: Problem, url: str) -> Finding:
        severity = Severity.FAILURE if problem.severity == "error" else Severity.WARNING
        return Finding("database-setup", severity, str(problem), url)

    @staticmethod
    def _adder(findings: list[Finding], url: str) -> Callable[[str, str], None]:
        def add(rule: str, message: str) -> None:
            findings.append(Finding(rule, severity_of(rule), message, url))

        return add


def _harvested(copy: LocalCopy, item_id: t.Any) -> dict[str, t.Any] | None:
    item = copy.get(item_id)
    return None if item is None else item.data
