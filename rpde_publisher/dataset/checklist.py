"""``flask rpde checklist``: the five steps to publish open data, each done or missing."""

from __future__ import annotations

import json
import re
import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from flask import current_app
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..diagnosis import diagnose
from .certificate import certificate_answers
from .certificate import format_answers
from .licences import open_licence
from .reader import fetch_site
from .reader import SitePage
from .registration import organisation_key
from .registration import Registration
from .registration import registration
from .registration import settings_problems
from .registration import site_targets

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

    from ..extension import RPDE
    from ..feed import Feed

Status = t.Literal["done", "missing", "advice"]
#: How many organisations with problems are listed before the rest are counted.
ORGANISATIONS_LISTED = 20


@dataclass(frozen=True)
class Item:
    """One finding: ``done``, ``missing`` (required; the command fails) or ``advice``."""

    status: Status
    text: str


@dataclass
class Step:
    """One of the five steps and what was found for it."""

    number: int
    title: str
    items: list[Item] = field(default_factory=list)
    #: Text printed after the items, ready to paste (step 5's answers and entry).
    details: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return all(item.status != "missing" for item in self.items)

    def add(self, status: Status, text: str) -> None:
        self.items.append(Item(status, text))


def run_checklist(app: Flask, extension: RPDE, *, validate_sites: bool = False) -> list[Step]:
    """Check the five steps against ``app`` as a consumer would see it (a test client).

    :param validate_sites: In step 5, also check each dataset site as OpenActive's
        registration does, walking every feed (``flask rpde validate --dataset-site``).
    """
    client = app.test_client()
    steps = [
        Step(1, "Build the OpenActive API: feeds registered and valid"),
        Step(2, "Choose a licence"),
        Step(3, "Amend terms and build an opt-out"),
        Step(4, "Create a dataset homepage"),
        Step(5, "Register with OpenActive and get an Open Data Certificate"),
    ]
    with app.app_context():
        prefix = extension.state().settings.url_prefix
        pages = _check_feeds(steps[0], client, extension, prefix)
        _check_licence(steps[1], extension, pages)
        _check_opt_out(steps[2], extension)
        site = _check_dataset_site(steps[3], client, extension, prefix)
        _check_certificate(steps[4], extension, site)
        _check_registration(steps[4], app, extension, site, validate_sites=validate_sites)
    return steps


# Step 1 -----------------------------------------------------------------------------


def _check_feeds(
    step: Step, client: FlaskClient, extension: RPDE, prefix: str
) -> dict[str, dict[str, t.Any]]:
    feeds = list(extension.feeds)
    if not feeds:
        step.add(
            "missing",
            "No feed is registered: publish a model with"
            " rpde.feed(Model, kind='SessionSeries', schema=...).",
        )
        return {}
    step.add("done", f"{len(feeds)} feed(s) registered: {', '.join(f.name for f in feeds)}.")
    pages = {}
    for feed in feeds:
        if not _check_setup(step, extension, feed):
            continue
        page = check_first_page(step, client, f"{prefix}/feeds/{feed.name}", feed)
        if page is not None:
            pages[feed.name] = page
    return pages


def _check_setup(step: Step, extension: RPDE, feed: Feed) -> bool:
    """Add what is wrong with ``feed``'s setup in its database (see
    :func:`~rpde_publisher.diagnosis.diagnose`); ``False`` if its table cannot be read."""
    try:
        with extension.state().sessions.connection(feed.spec.table) as connection:
            problems = diagnose(connection, feed)
    except Exception as exc:  # the database may be unreachable: say so, do not crash
        step.add("missing", f"{feed.name}: cannot reach its database ({exc.__class__.__name__}).")
        return False
    for problem in problems:
        step.add("missing" if problem.severity == "error" else "advice", str(problem))
    return not any(problem.code in ("table-missing", "columns-missing") for problem in problems)


def check_first_page(
    step: Step, client: FlaskClient, path: str, feed: Feed
) -> dict[str, t.Any] | None:
    """A quick validity check: the first page answers 200 with the shape of an RPDE page.

    The checklist stays quick on feeds of millions of items; ``flask rpde validate``
    walks every page and checks every RPDE rule, and the step advises running it.
    """
    response = client.get(path)
    if response.status_code != 200:
        step.add("missing", f"{feed.name}: GET {path} answered {response.status_code}.")
        return None
    try:
        page = json.loads(response.get_data(as_text=True))
    except ValueError:
        step.add("missing", f"{feed.name}: GET {path} did not answer JSON.")
        return None
    problems = []
    if not isinstance(page, dict):
        problems.append("the page is not a JSON object")
    else:
        if not isinstance(page.get("items"), list):
            problems.append("no 'items' array")
        if not isinstance(page.get("next"), str) or not page["next"].startswith("http"):
            problems.append("no absolute 'next' URL")
        if not isinstance(page.get("license"), str):
            problems.append("no 'license'")
    if problems:
        step.add(
            "missing", f"{feed.name}: the first page is not an RPDE page: {'; '.join(problems)}."
        )
        return None
    count = len(page["items"])
    step.add("done", f"{feed.name}: the first page is an RPDE page ({count} item(s)).")
    step.add(
        "advice",
        f"{feed.name}: `flask rpde validate {feed.name}` walks every page and checks every"
        " RPDE rule against the database.",
    )
    if count == 0:
        step.add("advice", f"{feed.name}: the feed is empty; consumers will see no data yet.")
    return t.cast(dict[str, t.Any], page)


# Step 2 -----------------------------------------------------------------------------


def _check_licence(step: Step, extension: RPDE, pages: dict[str, dict[str, t.Any]]) -> None:
    licence = open_licence(extension.state().settings.license)
    step.add("done", f"RPDE_LICENSE is {licence.name} ({licence.url}), an open licence.")
    wrong = [name for name, page in pages.items() if page.get("license") != licence.url]
    if wrong:
        step.add("missing", f"Feed pages carry another licence: {', '.join(wrong)}.")
    if not licence.is_openactive:
        step.add(
            "missing",
            "OpenActive's validator and catalogue accept only CC BY 4.0: set RPDE_LICENSE ="
            " 'https://creativecommons.org/licenses/by/4.0/' to publish through OpenActive.",
        )


# Step 3 -----------------------------------------------------------------------------


def _check_opt_out(step: Step, extension: RPDE) -> None:
    """A platform publishing many organisations' data needs an opt-out filter on every
    feed; a single publisher, whose data is its own, needs only its terms amended."""
    feeds = list(extension.feeds)
    platform = extension.organisation_sites is not None or any(
        feed.organisation is not None for feed in feeds
    )
    for feed in feeds:
        if feed.publish_when() is not None:
            step.add("done", f"{feed.name}: items outside publish_when= leave the feed.")
        elif platform:
            step.add(
                "missing",
                f"{feed.name}: no opt-out filter. Pass publish_when= to rpde.feed() so the"
                " items of an organisation that opts out leave the feed as deleted items.",
            )
    if platform:
        step.add(
            "advice",
            "Software cannot check your terms: make sure they tell each organisation that"
            " its sessions and facilities are published as open data, and how to opt out.",
        )
        step.add(
            "advice",
            "On a platform an opt-out is an organisation's: its items leave every feed as"
            " deleted items, so consumers remove them, and come back if it opts in again.",
        )
        return
    step.add(
        "done",
        "A single publisher (no organisation= feeds, no dataset provider): the data is"
        " your own, so no opt-out filter is needed.",
    )
    step.add(
        "advice",
        "Software cannot check your terms: make sure they, and your agreements with anyone"
        " whose sessions or facilities you list (instructors, clubs, hirers), say that"
        " these are published as open data.",
    )
    step.add(
        "advice",
        "For a single publisher an opt-out is leaving something out: publish_when="
        " publishes the rows it rejects (a private booking, a draft, a session its"
        " organiser asked to keep off) as deleted items; leaving altogether is removing"
        " the feeds and asking OpenActive to take your dataset site out of its catalogue."
        " (On a platform each organisation can opt out: every feed needs the filter.)",
    )


# Step 4 -----------------------------------------------------------------------------

# Required (True) and recommended (False) dataset-site fields, per OpenActive's data
# models in DatasetSite mode, with the setting that fills each one.
_DATASET_FIELDS: list[tuple[str, bool, str]] = [
    ("name", True, "RPDE_DATASET_NAME or RPDE_PUBLISHER_NAME"),
    ("description", True, "RPDE_DATASET_DESCRIPTION or RPDE_PUBLISHER_NAME"),
    ("keywords", True, "RPDE_DATASET_KEYWORDS"),
    ("distribution", True, "rpde.feed(...)"),
    ("discussionUrl", True, "RPDE_DISCUSSION_URL (a GitHub issues board)"),
    ("documentation", True, "RPDE_DOCUMENTATION_URL"),
    ("inLanguage", True, "RPDE_DATASET_LANGUAGES"),
    ("publisher.name", True, "RPDE_PUBLISHER_NAME"),
    ("publisher.legalName", True, "RPDE_PUBLISHER_LEGAL_NAME"),
    ("publisher.url", True, "RPDE_PUBLISHER_URL"),
    ("publisher.logo", True, "RPDE_PUBLISHER_LOGO"),
    ("publisher.email", False, "RPDE_PUBLISHER_EMAIL"),
    ("datePublished", False, "RPDE_DATE_PUBLISHED"),
    ("backgroundImage", False, "RPDE_BACKGROUND_IMAGE"),
]
_GITHUB_ISSUES = re.compile(r"^https://github\.com/[^/]+/[^/]+/issues/?$")


def dataset_problems(jsonld: t.Any) -> list[Item]:
    """What OpenActive's validator would miss in a dataset site's JSON-LD (no Flask)."""
    if not isinstance(jsonld, dict):
        return [Item("missing", "the page has no JSON-LD Dataset")]
    items = []
    if jsonld.get("@context") != ["https://schema.org/", "https://openactive.io/"]:
        items.append(Item("missing", "@context is not the OpenActive dataset-site context"))
    if not jsonld.get("@id") or jsonld.get("@id") != jsonld.get("url"):
        items.append(Item("missing", "@id and url must both be the page's URL"))
    for path, required, setting in _DATASET_FIELDS:
        if _lookup(jsonld, path) is None:
            kind: Status = "missing" if required else "advice"
            what = "required" if required else "recommended"
            items.append(Item(kind, f"{path} ({what}) is missing: set {setting}"))
    for download in jsonld.get("distribution") or ():
        if not download.get("additionalType"):
            items.append(
                Item(
                    "missing",
                    f"feed {download.get('contentUrl')}: its kind {download.get('name')!r} is"
                    " not an OpenActive type, so it has no additionalType",
                )
            )
    discussion = jsonld.get("discussionUrl")
    if isinstance(discussion, str) and not _GITHUB_ISSUES.match(discussion):
        if urlsplit(discussion).hostname == "github.com":
            items.append(Item("missing", "RPDE_DISCUSSION_URL on GitHub must be the /issues page"))
        else:
            items.append(
                Item(
                    "advice",
                    "RPDE_DISCUSSION_URL is not a GitHub issues board, the only kind"
                    " OpenActive's tools recognise",
                )
            )
    return items


def _lookup(document: dict[str, t.Any], path: str) -> t.Any:
    value: t.Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _check_dataset_site(
    step: Step, client: FlaskClient, extension: RPDE, prefix: str
) -> SitePage | None:
    settings = extension.state().settings
    page = fetch_site(client, f"{prefix}/")
    if page.error:
        step.add("missing", f"The dataset site: {page.error}.")
        return None
    step.add("done", f"The dataset site answers at {page.url}.")
    problems = dataset_problems(page.jsonld)
    if not [p for p in problems if p.status == "missing"]:
        step.add("done", "Its JSON-LD has every field OpenActive's validator requires.")
    for item in problems:
        step.add(item.status, item.text)
    if settings.base_url is None and not current_app.config.get("TRUSTED_HOSTS"):
        step.add(
            "missing",
            "Neither RPDE_BASE_URL nor TRUSTED_HOSTS is set, so the site's URLs and the"
            " feeds' next links come from whatever Host header a request sends: set"
            " RPDE_BASE_URL to the public origin (https://...), or TRUSTED_HOSTS to the"
            " names the app answers to (other hosts then get 400).",
        )
    elif settings.base_url is None:
        step.add(
            "advice",
            "RPDE_BASE_URL is not set, so the site's URLs follow each request's host: set"
            " it to the public origin (https://...) so @id matches the URL you register.",
        )
    elif not settings.base_url.startswith("https://"):
        step.add("advice", "RPDE_BASE_URL is not https: register an https URL.")
    if extension.organisation_sites is not None:
        _check_organisation_sites(step, client, extension, prefix)
    return page


def _check_organisation_sites(
    step: Step, client: FlaskClient, extension: RPDE, prefix: str
) -> None:
    response = client.get(f"{prefix}/data-catalog")
    if response.status_code != 200:
        step.add("missing", f"The data catalogue answered {response.status_code}.")
        return
    sites = json.loads(response.get_data(as_text=True)).get("dataset", [])
    step.add("done", f"The data catalogue lists {len(sites)} organisation site(s).")
    incomplete = []
    for url in sites:
        page = fetch_site(client, urlsplit(url).path)
        missing = [i.text for i in dataset_problems(page.jsonld) if i.status == "missing"]
        if page.error or missing:
            incomplete.append(f"{url}: {page.error or '; '.join(missing)}")
    for text in incomplete[:ORGANISATIONS_LISTED]:
        step.add("missing", f"Organisation site {text} (set these in the provider's metadata)")
    if len(incomplete) > ORGANISATIONS_LISTED:
        step.add("missing", f"... and {len(incomplete) - ORGANISATIONS_LISTED} more.")


# Step 5 -----------------------------------------------------------------------------


def _check_certificate(step: Step, extension: RPDE, site: SitePage | None) -> None:
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


def _check_registration(
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


def format_checklist(steps: list[Step]) -> str:
    """The checklist as text for a terminal."""
    marks = {"done": "[x]", "missing": "[ ]", "advice": " - "}
    lines = []
    for step in steps:
        lines.append(f"{step.number}. {step.title}: {'DONE' if step.done else 'MISSING'}")
        lines.extend(f"   {marks[item.status]} {item.text}" for item in step.items)
        if step.details:
            lines.append("")
            lines.extend(f"   {line}".rstrip() for line in step.details)
        lines.append("")
    done = sum(step.done for step in steps)
    lines.append(f"{done} of {len(steps)} steps done.")
    return "\n".join(lines)
