"""Checklist step 4: the dataset site carries every field OpenActive and the certificate read."""

from __future__ import annotations

import json
import re
import typing as t
from urllib.parse import urlsplit

from flask import current_app

from .checklist_steps import Item
from .checklist_steps import ORGANISATIONS_LISTED
from .checklist_steps import Status
from .checklist_steps import Step
from .reader import fetch_site
from .reader import SitePage

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

    from ..extension import RPDE

__all__ = ["check_dataset_site", "dataset_problems"]


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


def check_dataset_site(
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
