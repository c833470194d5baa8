"""Would a dataset site pass OpenActive's registration? Every check the Test Suite's
``validate-feeds`` makes that can be made here, in one report (``validate --dataset-site``)."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from ..harvest import Harvester
from ..harvest import HarvestError
from ..harvest import LocalCopy
from ..jsonld_scripts import json_ld_blocks
from .dataset_jsonld import check_dataset_jsonld
from .findings import Finding
from .findings import Report
from .findings import Verdict
from .opportunities import check_opportunities
from .opportunities import HARVESTED
from .opportunities import OpportunityCount
from .site_rules import site_finding
from .walk import Progress
from .walk import validate_feed

__all__ = ["NO_ITEM_CHECK", "SIZE_LIMIT", "ItemCheck", "SiteReport", "validate_site"]

#: Checks a feed's live items (the data-model checks), returning their findings.
ItemCheck = Callable[[str, LocalCopy], list[Finding]]

#: Live items above which a site cannot pass the Test Suite in one run: its broker gives
#: up after an hour, and it validated 65-70 items a second on this project's machine (as
#: reported; the example app's small items went about 245 a second in our run). The
#: slower rate is kept: rich items validate slower.
SIZE_LIMIT = 200_000
#: Why the data-model checks of each item are not run when no :data:`ItemCheck` is given.
NO_ITEM_CHECK = (
    "not run: this version of rpde_publisher has no item checks yet. The Test Suite"
    " validates every live item with OpenActive's data-model-validator (RPDEFeed mode) and"
    " fails on any failure: check your items with https://validator.openactive.io/ (or the"
    " npm @openactive/data-model-validator) too."
)


@dataclass
class SiteReport(Verdict):
    """Everything one validation of a dataset site found."""

    #: The dataset site's URL, as it would be registered.
    url: str
    #: Findings about the site as a whole (its JSON-LD, and across its feeds).
    findings: list[Finding] = field(default_factory=list)
    #: Each feed walked, by the identifier the Test Suite gives it.
    feeds: dict[str, Report] = field(default_factory=dict)
    #: What the Test Suite's broker would hold, when every feed was walked to its end.
    opportunities: OpportunityCount | None = None
    #: Checks that could not run, with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Live items harvested across the feeds (what the Test Suite validates).
    live_items: int = 0

    def every_finding(self) -> Iterable[Finding]:
        yield from self.findings
        for report in self.feeds.values():
            yield from report.findings

    def to_dict(self, *, strict: bool = False) -> dict[str, t.Any]:
        """The report as JSON-ready data (what ``validate --dataset-site --json`` prints)."""
        count = self.opportunities
        return {
            **self.verdict(self.url, strict=strict),
            "live_items": self.live_items,
            "findings": [finding.to_dict() for finding in self.findings],
            "opportunities": None
            if count is None
            else {
                "parents": count.parents,
                "children": count.children,
                "orphans": count.orphans,
                "opportunities": count.opportunities,
            },
            "feeds": {name: report.to_dict(strict=strict) for name, report in self.feeds.items()},
            "skipped": self.skipped,
        }


def validate_site(
    url: str,
    harvester: Harvester,
    *,
    rewalk: bool = False,
    max_pages: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    item_check: ItemCheck | None = None,
    hints: bool = False,
    findings: Iterable[Finding] = (),
) -> SiteReport:
    """Check the dataset site at ``url`` as the Test Suite's ``validate-feeds`` does.

    The page's JSON-LD in ``DatasetSite`` mode, each feed of a type the Test Suite harvests
    walked to its end with the RPDE page rules, the parents and children across feeds
    (orphans, the opportunities it needs), and each item with ``item_check``.

    :param harvester: Fetches the page and the feeds (its client, retries and time-outs).
    :param rewalk: Walk each feed a second time, as ``validate`` does (the Test Suite
        walks once).
    :param max_pages: Stop each walk after this many pages; the checks across feeds are
        then skipped.
    :param item_check: Checks each feed's live items; ``None`` skips the item checks
        (see :data:`NO_ITEM_CHECK`).
    :param hints: Name the rpde_publisher setting behind each missing property.
    :param findings: Findings known beforehand (an organisation's settings that did not
        parse), reported with the rest.
    """
    report = SiteReport(url, findings=list(findings))
    jsonld = _read_jsonld(url, harvester, report)
    if jsonld is None:
        return report
    report.findings.extend(check_dataset_jsonld(jsonld, url, hints=hints))
    feeds = _harvested_feeds(jsonld, report)
    parents: dict[str, LocalCopy] = {}
    children: dict[str, LocalCopy] = {}
    unfinished = []
    for identifier, content_url, is_parent in feeds:

        def each_page(done: Progress, name: str = identifier) -> None:
            if progress is not None:
                progress(Progress(f"{name} {done.phase}", done.pages, done.items))

        copy = LocalCopy()
        feed_report = validate_feed(
            content_url,
            harvester,
            rewalk=rewalk,
            max_pages=max_pages,
            progress=each_page,
            keep=copy,
        )
        report.feeds[identifier] = feed_report
        if feed_report.summary.last_url is None:
            unfinished.append(identifier)
        (parents if is_parent else children)[content_url] = copy
        report.live_items += len(copy)
        if item_check is not None:
            feed_report.findings.extend(item_check(content_url, copy))
    if item_check is None:
        report.skipped["item-data"] = NO_ITEM_CHECK
    if unfinished:
        reason = f"not every feed was walked to its end ({', '.join(unfinished)})"
        for rule in ("orphans", "opportunities", "bookable-shape", "site-size"):
            report.skipped[rule] = reason
        return report
    if feeds:
        across, report.opportunities = check_opportunities(parents, children)
        report.findings.extend(across)
    if report.live_items > SIZE_LIMIT:
        report.findings.append(
            site_finding(
                "site-size",
                f"{report.live_items:,} live items: the Test Suite validates each one (65-70"
                " a second has been measured) and gives up after an hour, so more than about"
                f" {SIZE_LIMIT:,} may not pass in one run. Split the data into"
                " per-organisation sites listed by a DataCatalog, and keep Slot feeds short"
                " (retire past slots, a shorter horizon).",
            )
        )
    return report


def _read_jsonld(url: str, harvester: Harvester, report: SiteReport) -> t.Any:
    """The page's first JSON-LD block, parsed, as the Test Suite reads it (or ``None``)."""
    try:
        response = harvester.fetch(url)
    except HarvestError as exc:
        report.findings.append(site_finding("site-page", f"GET {url}: {exc.message}", url))
        return None
    blocks = json_ld_blocks(response.text)
    if not blocks:
        report.findings.append(
            site_finding(
                "site-page",
                "Unable to read valid JSON-LD from Dataset Site: the page has no"
                ' <script type="application/ld+json"> block.',
                url,
            )
        )
        return None
    try:
        jsonld = json.loads(blocks[0])
    except ValueError as exc:
        report.findings.append(
            site_finding("site-page", f"The page's JSON-LD does not parse ({exc}).", url)
        )
        return None
    if len(blocks) > 1:
        report.findings.append(
            site_finding(
                "site-page",
                f"The page has {len(blocks)} JSON-LD blocks; OpenActive's tools read"
                " only the first, and the dataset site must have one.",
                url,
            )
        )
    return jsonld


def _harvested_feeds(jsonld: t.Any, report: SiteReport) -> list[tuple[str, str, bool]]:
    """``(identifier, contentUrl, is_parent)`` of each feed the Test Suite would harvest."""
    distribution = jsonld.get("distribution") if isinstance(jsonld, dict) else None
    feeds: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    for download in distribution if isinstance(distribution, list) else ():
        if not isinstance(download, dict):
            continue
        identifier = str(
            download.get("identifier") or download.get("name") or download.get("additionalType")
        )
        if identifier in seen:
            report.findings.append(
                site_finding(
                    "site-feeds",
                    f"Two feeds have the identifier {identifier!r}: the Test Suite stops with"
                    ' "Duplicate feed identifier not permitted within dataset distribution".',
                )
            )
            continue
        seen.add(identifier)
        kind = download.get("additionalType")
        content_url = download.get("contentUrl")
        if kind not in HARVESTED:
            report.findings.append(
                site_finding(
                    "site-feed-type",
                    f"Feed {identifier!r} ({content_url}) has additionalType {kind!r}, which the"
                    " Test Suite does not harvest (it reports an unsupported feed).",
                )
            )
            continue
        if isinstance(content_url, str):
            feeds.append((identifier, content_url, HARVESTED[t.cast(str, kind)]))
    if not feeds:
        report.findings.append(
            site_finding(
                "site-feeds",
                "No feed of a type the Test Suite harvests (SessionSeries, ScheduledSession,"
                " FacilityUse, IndividualFacilityUse, Slot, Event, OnDemandEvent).",
            )
        )
    return feeds
