"""Validate a feed: walk every page, probe and re-fetch the last page, walk again, compare."""

from __future__ import annotations

import json
import time
import typing as t
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import quote
from urllib.parse import urlsplit

import httpx

from ..harvest import Harvester
from ..harvest import HarvestError
from ..harvest import Item
from ..harvest import LocalCopy
from .checks import examples
from .checks import FeedChecks
from .findings import Finding
from .findings import Report
from .rules import DATABASE_RULES
from .rules import severity_of
from .urls import INTEGER
from .urls import is_absolute_http_url
from .urls import resolve

__all__ = [
    "MAX_SAFE_INTEGER",
    "YEAR_SECONDS",
    "DatabaseCheck",
    "Progress",
    "ProgressCallback",
    "probe_url",
    "validate_feed",
]

#: JavaScript's Number.MAX_SAFE_INTEGER, OpenActive's "far future" for large cursors.
MAX_SAFE_INTEGER = 2**53 - 1
YEAR_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Progress:
    """Where a validation has got to, for progress bars."""

    #: ``"walk"``, ``"re-walk"`` or ``"database"``.
    phase: str
    pages: int
    items: int


ProgressCallback = Callable[[Progress], None]


class DatabaseCheck(t.Protocol):
    """Compares a harvested copy with the database behind the feed."""

    def __call__(self, copy: LocalCopy, last_url: str) -> tuple[list[Finding], int]:
        """The findings, and how many live items were compared."""


@dataclass
class _Walk:
    checks: FeedChecks
    copy: LocalCopy = field(default_factory=LocalCopy)
    last_url: str | None = None
    #: Why the walk stopped before a last page, if it did.
    stopped: str | None = None


def validate_feed(
    url: str,
    harvester: Harvester,
    *,
    rewalk: bool = True,
    max_pages: int | None = None,
    database: DatabaseCheck | None = None,
    progress: ProgressCallback | None = None,
    keep: LocalCopy | None = None,
) -> Report:
    """Walk the feed at ``url`` with ``harvester`` and check every rule on every page.

    :param harvester: Fetches pages (with its retries and time-outs); see
        :class:`~rpde_publisher.harvest.Harvester`.
    :param rewalk: Walk the feed a second time and compare the ids.
    :param max_pages: Stop each walk after this many pages (``None``: no limit).
    :param database: Compares the harvested copy with the feed's database.
    :param progress: Called after each page.
    :param keep: Filled with the live items of the first walk (a consumer's copy).
    """
    report = Report(url)
    walk = _walk_feed(harvester, url, max_pages, progress, "walk", keep)
    checks = walk.checks
    checks.finish()
    report.findings.extend(checks.findings)
    report.summary.pages = len(checks.pages)
    report.summary.items = checks.items
    report.summary.deleted_items = checks.deleted_items
    report.summary.last_url = walk.last_url
    _probe_last_page(harvester, url, checks, report)
    if walk.last_url is None:
        reason = f"the walk did not reach a last page ({walk.stopped})"
        for rule in ("last-page-stable", "rewalk", *DATABASE_RULES):
            report.skipped[rule] = reason
        return report
    _refetch_last_page(harvester, walk.last_url, report)
    if rewalk:
        _rewalk(harvester, url, checks, max_pages, progress, report)
    else:
        report.skipped["rewalk"] = "turned off (--no-rewalk)"
    if database is None:
        reason = "the target is a URL: name a registered feed to compare with its database"
        for rule in DATABASE_RULES:
            report.skipped[rule] = reason
    else:
        if progress is not None:
            progress(Progress("database", len(checks.pages), checks.items))
        findings, compared = database(walk.copy, walk.last_url)
        report.findings.extend(findings)
        report.summary.database_items = compared
    return report


def _add(report: Report, rule: str, message: str, url: str | None) -> None:
    report.findings.append(Finding(rule, severity_of(rule), message, url))


def _fetch(harvester: Harvester, url: str, checks: FeedChecks) -> httpx.Response | None:
    try:
        return harvester.fetch(url)
    except HarvestError as exc:
        checks.add("http-status", exc.message, url)
        return None


def _json_object(url: str, response: httpx.Response, checks: FeedChecks) -> dict[str, t.Any] | None:
    try:
        body = json.loads(response.content)
    except (UnicodeDecodeError, ValueError) as exc:
        checks.add("json-object", f"The body is not JSON ({exc}).", url)
        return None
    if not isinstance(body, dict):
        checks.add("json-object", f"The body is JSON {type(body).__name__}, not an object.", url)
        return None
    return body


def _walk_feed(
    harvester: Harvester,
    start: str,
    max_pages: int | None,
    progress: ProgressCallback | None,
    phase: str,
    copy: LocalCopy | None = None,
) -> _Walk:
    walk = _Walk(FeedChecks(), copy if copy is not None else LocalCopy())
    checks = walk.checks
    visited: set[str] = set()
    url = start
    while True:
        response = _fetch(harvester, url, checks)
        if response is None:
            walk.stopped = f"{url} could not be fetched"
            return walk
        body = _json_object(url, response, checks)
        if body is None:
            checks.http(url, response.headers, is_last=False)
            walk.stopped = f"{url} is not a JSON object"
            return walk
        items = body.get("items")
        next_url = resolve(body.get("next"), url)
        is_last = next_url == url and items == []
        checks.http(url, response.headers, is_last=is_last)
        checks.page(url, body, is_last=is_last, walked=True)
        _keep(walk.copy, items)
        if progress is not None:
            progress(Progress(phase, len(checks.pages), checks.items))
        if is_last:
            walk.last_url = url
            return walk
        visited.add(url)
        if next_url is None or not is_absolute_http_url(next_url):
            walk.stopped = f"{url} has no next URL to follow"
            checks.add("no-last-page", f"The walk stopped: {walk.stopped}.", url)
            return walk
        if next_url == url:
            walk.stopped = f"{url} has items and points at itself"
            return walk  # next-not-self says why
        if next_url in visited:
            walk.stopped = f"{url} leads back to {next_url}, already walked"
            checks.add(
                "no-last-page",
                f"next ({next_url}) leads back to a page already walked: following the feed"
                " loops for ever and never reaches a last page (no items, next = itself).",
                url,
            )
            return walk
        if max_pages is not None and len(checks.pages) >= max_pages:
            walk.stopped = f"--max-pages {max_pages} reached"
            return walk
        url = next_url


def _keep(copy: LocalCopy, items: t.Any) -> None:
    """Apply the well-formed items of a page to the copy, as a lenient consumer would."""
    if not isinstance(items, list):
        return
    for raw in items:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int | str):
            continue
        kind, modified, data = raw.get("kind"), raw.get("modified"), raw.get("data")
        item = Item(
            raw["id"],
            kind if isinstance(kind, str) else "",
            str(raw.get("state")),
            modified if isinstance(modified, int | str) else 0,
            data if isinstance(data, dict) else None,
        )
        if item.state == "deleted":
            copy.delete(item)
        elif item.state == "updated" and item.data is not None:
            copy.upsert(item)


def probe_url(start: str, checks: FeedChecks) -> str | None:
    """The far-future page OpenActive's validator asks for, from what the walk saw."""
    parts = urlsplit(start)
    origin = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if checks.last_timestamp is not None:
        value = int(checks.last_timestamp)
        now = time.time()
        if value <= now:
            far = int(now + YEAR_SECONDS)
        elif value <= now * 1000:
            far = int((now + YEAR_SECONDS) * 1000)
        else:
            far = MAX_SAFE_INTEGER
        url = f"{origin}?afterTimestamp={far}"
        if checks.first_after_id is not None:
            url += f"&afterId={quote(checks.first_after_id, safe='')}"
        return url
    if checks.last_change_number is not None:
        return f"{origin}?afterChangeNumber={MAX_SAFE_INTEGER}"
    return None


def _probe_last_page(harvester: Harvester, start: str, walked: FeedChecks, report: Report) -> None:
    """Ask for a page far in the future: it must be an empty last page that points at itself."""
    value = walked.last_timestamp or walked.last_change_number
    if value is None:
        if walked.items:
            _add(
                report,
                "last-page-check",
                "No next URL carries afterTimestamp or afterChangeNumber, so neither"
                " consumers nor validators can ask for a position: use RPDE's cursor"
                " parameters, not page numbers or offsets.",
                start,
            )
        else:
            report.skipped["last-page-probe"] = "the feed has no items to take a cursor from"
            report.skipped["last-page-self"] = report.skipped["last-page-probe"]
        return
    if not INTEGER.fullmatch(value):
        _add(
            report,
            "last-page-check",
            f"The last cursor value {value!r} is not an integer, so the last page cannot be"
            " probed; RPDE recommends integer modified values.",
            start,
        )
        return
    url = probe_url(start, walked)
    assert url is not None
    checks = FeedChecks()
    first = _probe_page(harvester, url, checks)
    if first is not None:
        items = first.get("items")
        if not isinstance(items, list) or items:
            count = len(items) if isinstance(items, list) else "no items array and"
            _add(
                report,
                "last-page-probe",
                f"A page after every item ({url}) has {count} item(s); past the newest item"
                " the feed must answer an empty last page (check the cursor comparison and"
                " that unknown cursors are not sent back to the start).",
                url,
            )
        next_url = resolve(first.get("next"), url)
        if next_url is not None and is_absolute_http_url(next_url):
            second = _probe_page(harvester, next_url, checks)
            if second is not None and json.dumps(second) != json.dumps(first):
                _add(
                    report,
                    "last-page-self",
                    f"The last page's next ({next_url}) answers a different page: the last"
                    " page must point at itself, so polling it returns the same page.",
                    url,
                )
    report.findings.extend(checks.findings)


def _probe_page(harvester: Harvester, url: str, checks: FeedChecks) -> dict[str, t.Any] | None:
    response = _fetch(harvester, url, checks)
    if response is None:
        return None
    body = _json_object(url, response, checks)
    checks.http(url, response.headers, is_last=True)
    if body is not None:
        checks.page(url, body, is_last=True, walked=False)
    return body


def _refetch_last_page(harvester: Harvester, url: str, report: Report) -> None:
    """The real last page, asked for again, must be the same page (consumers poll it)."""
    checks = FeedChecks()
    again = _probe_page(harvester, url, checks)
    if again is None:
        _add(report, "last-page-stable", "The last page failed when fetched again.", url)
        return
    items = again.get("items")
    if resolve(again.get("next"), url) != url or items != []:
        what = (
            f"it now has {len(items)} item(s)"
            if isinstance(items, list) and items
            else f"its next is now {again.get('next')!r}"
        )
        _add(
            report,
            "last-page-stable",
            f"Fetched again, the last page is no longer an empty page pointing at itself:"
            f" {what}. Consumers polling it would move off the end or re-read old items.",
            url,
        )


def _rewalk(
    harvester: Harvester,
    start: str,
    first: FeedChecks,
    max_pages: int | None,
    progress: ProgressCallback | None,
    report: Report,
) -> None:
    """Walk again from the start: a feed at rest must give the same ids."""
    walk = _walk_feed(harvester, start, max_pages, progress, "re-walk")
    report.summary.rewalk_pages = len(walk.checks.pages)
    if walk.last_url is None:
        _add(report, "rewalk", f"The second walk did not finish: {walk.stopped}.", start)
        return
    before, after = set(map(_id_key, first.ids)), set(map(_id_key, walk.checks.ids))
    vanished = sorted(before - after, key=repr)
    appeared = sorted(after - before, key=repr)
    if vanished:
        _add(
            report,
            "rewalk",
            f"{len(vanished)} id(s) seen in the first walk are not in the second:"
            f" {examples([value for _, value in vanished])}. Items must never vanish: a"
            " deleted item stays in the feed as a tombstone (and if the feed was written to"
            " meanwhile, run validate again).",
            start,
        )
    if appeared:
        _add(
            report,
            "rewalk",
            f"{len(appeared)} id(s) appear only in the second walk:"
            f" {examples([value for _, value in appeared])}.",
            start,
        )


def _id_key(value: t.Any) -> tuple[str, t.Any]:
    return (type(value).__name__, value if isinstance(value, str | int) else repr(value))
