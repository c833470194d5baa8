"""Checklist step 5: the certificate's answers and the data catalogue's entry, checked."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .certificate import certificate_answers
from .certificate import format_answers
from .checklist_steps import ORGANISATIONS_LISTED
from .checklist_steps import Step
from .licences import open_licence
from .reader import fetch_site
from .reader import SitePage
from .registration import organisation_key
from .registration import Registration
from .registration import registration
from .registration import settings_problems
from .registration import site_targets

if t.TYPE_CHECKING:

    from ..extension import RPDE

__all__ = ["check_certificate", "check_registration"]


# Step 5 -----------------------------------------------------------------------------


def check_certificate(step: Step, extension: RPDE, site: SitePage | None) -> None:
    """(a) The ODI's certificate: answered by hand since 2025, so print the answers."""
    step.add(
        "advice",
        "Open Data Certificate: since August 2025 the ODI's new certificate platform no"
        " longer fills the questionnaire in from a dataset site; sign in with an ODI"
        " account at https://certificates.theodi.org/ and answer it by hand. The answers"
        " below come from your configuration, in the questionnaire's order.",
    )
    if site is None or not isinstance(site.jsonld, dict):
        step.add(
            "missing",
            "The certificate's answers come from the dataset site, which is not available.",
        )
        return
    publisher = site.jsonld.get("publisher")
    if not isinstance(publisher, dict) or not publisher.get("name"):
        step.add("missing", "A certificate names who publishes the data: set RPDE_PUBLISHER_NAME.")
    licence = open_licence(extension.state().settings.license)
    answers = certificate_answers(site.jsonld, site.rdfa_properties, licence)
    unanswered = sum(answer.answer is None for answer in answers)
    step.add(
        "done",
        f"{len(answers) - unanswered} of {len(answers)} questions answered from the"
        f" configuration (below); {unanswered} are yours to answer.",
    )
    step.details.append("Open Data Certificate: answers to paste")
    step.details.extend("  " + line for line in format_answers(answers))
    step.details.append("")


def check_registration(
    step: Step, app: Flask, extension: RPDE, site: SitePage | None, *, validate_sites: bool
) -> None:
    """(b) Registration with OpenActive: the data-catalogs pull request, and whether the
    sites would pass the checks it runs."""
    if site is None or not isinstance(site.jsonld, dict):
        step.add("missing", "Registration lists the dataset site, which is not available.")
        return
    settings = extension.state().settings
    if settings.base_url is None:
        step.add(
            "missing",
            "RPDE_BASE_URL is not set: the URL registered with OpenActive must be the site's"
            " public URL, exactly its @id, which OpenActive's CI compares; set RPDE_BASE_URL"
            " to the public origin (https://...).",
        )
    entry = registration(app, extension)
    sites = [site.url, *entry.sites] if entry.array == "hasPart" else [site.url]
    failing = _jsonld_failures(app, extension, sites)
    for url, problems in failing[:ORGANISATIONS_LISTED]:
        step.add("missing", f"Registration would fail: {url}: {' '.join(problems)}")
    if len(failing) > ORGANISATIONS_LISTED:
        step.add("missing", f"... and {len(failing) - ORGANISATIONS_LISTED} more site(s).")
    if not failing:
        step.add(
            "done",
            f"The JSON-LD of {len(sites)} site(s) passes what OpenActive's Test Suite checks"
            " of a dataset site.",
        )
    _check_size(step, extension, entry)
    if validate_sites:
        _validate_sites(step, app, extension)
    else:
        step.add(
            "advice",
            "Before opening the pull request, run `flask rpde validate --dataset-site`: it"
            " walks every feed as OpenActive's Test Suite does (RPDE rules, orphans,"
            " opportunities); `flask rpde checklist --validate-sites` runs it here.",
        )
    step.details.append("OpenActive registration: the pull request")
    step.details.extend("  " + line for line in entry.text().splitlines())


def _jsonld_failures(app: Flask, extension: RPDE, urls: list[str]) -> list[tuple[str, list[str]]]:
    """Each site whose JSON-LD, or whose provider's settings, would fail registration."""
    from ..validate.dataset_jsonld import check_dataset_jsonld

    client = app.test_client()
    prefix = extension.state().settings.url_prefix
    failing = []
    for url in urls:
        problems: list[str] = []
        key = organisation_key(url, prefix)
        if key is not None:
            problems.extend(
                f"{problem} It is left out of the site (never replaced by another value)."
                for problem in settings_problems(app, extension, key)
            )
        parts = urlsplit(url)
        page = fetch_site(client, parts.path) if parts.path else SitePage(error="no path")
        if page.error:
            problems.append(page.error)
        else:
            problems.extend(
                finding.message
                for finding in check_dataset_jsonld(page.jsonld, url, hints=True)
                if finding.severity == "failure"
            )
        if problems:
            failing.append((url, problems))
    return failing


def _check_size(step: Step, extension: RPDE, entry: Registration) -> None:
    """Warn of a site the Test Suite cannot validate within its hour."""
    from ..counting import count_items
    from ..validate.site import SIZE_LIMIT

    state = extension.state()
    total = 0
    for feed in extension.feeds:
        if feed.feed_type is None:
            continue
        try:
            with state.read_sessions.connection(feed.spec.table) as connection:
                total += count_items(connection, feed, live=True)
        except SQLAlchemyError as exc:  # step 1 names what is wrong with the feed
            reason = type(exc).__name__
            step.add("advice", f"{feed.name}: its items could not be counted ({reason}).")
            return
    if total <= SIZE_LIMIT:
        step.add(
            "done",
            f"{total:,} live item(s): few enough for the Test Suite to validate within its"
            " one-hour limit.",
        )
        return
    where = (
        "split it into per-organisation sites listed by a DataCatalog (rpde.dataset_provider()),"
        if entry.array == "dataset"
        else "each organisation site is validated on its own;"
    )
    step.add(
        "advice",
        f"WARNING: {total:,} live items. The Test Suite validates each one (65-70 a second"
        f" has been measured) and gives up after an hour, so more than about {SIZE_LIMIT:,}"
        f" may not pass registration in one run: {where} and keep Slot feeds short (retire"
        " past slots with `flask rpde retire`, publish a shorter horizon).",
    )


def _validate_sites(step: Step, app: Flask, extension: RPDE) -> None:
    """Run ``validate --dataset-site`` on each site, in-process."""
    from ..harvest import Harvester
    from ..harvest import RetryPolicy
    from ..harvest import wsgi_client
    from ..validate.site import validate_site

    sites, origin = site_targets(app, extension)
    with wsgi_client(app, base_url=origin) as client:
        for url, known in sites:
            retry = RetryPolicy(unavailable_wait=(0, 0), error_wait=0, attempts=2)
            with Harvester(url, client=client, retry=retry) as harvester:
                report = validate_site(url, harvester, hints=True, findings=known)
            if report.passes():
                step.add("done", f"{url} would pass the Test Suite's checks made here.")
                continue
            reasons = "; ".join(f"{f.rule}: {f.message}" for f in report.failures[:3])
            more = len(report.failures) - 3
            step.add(
                "missing",
                f"{url} would fail: {reasons}" + (f" (and {more} more)" if more > 0 else ""),
            )
