"""``flask rpde checklist``: the five steps to publish open data, each done or missing."""

from __future__ import annotations

import json
import typing as t

from flask import Flask

from ..diagnosis import diagnose
from .checklist_publication import check_certificate
from .checklist_publication import check_registration
from .checklist_site import check_dataset_site
from .checklist_steps import format_checklist
from .checklist_steps import Step
from .licences import open_licence

__all__ = ["Step", "check_first_page", "format_checklist", "run_checklist"]

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

    from ..extension import RPDE
    from ..feed import Feed





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
        site = check_dataset_site(steps[3], client, extension, prefix)
        check_certificate(steps[4], extension, site)
        check_registration(steps[4], app, extension, site, validate_sites=validate_sites)
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
