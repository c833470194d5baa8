"""Registration with OpenActive: which URLs a publisher registers, and the pull request."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import Flask

from ..validate.findings import Finding
from ..validate.site_rules import site_finding
from .organisations import is_valid_key
from .views import dataset_settings

if t.TYPE_CHECKING:
    from ..extension import RPDE

__all__ = [
    "COLLECTION",
    "DATA_CATALOGS",
    "SINGULAR",
    "Registration",
    "catalog_sites",
    "organisation_key",
    "registration",
    "settings_findings",
    "settings_problems",
    "site_targets",
]

#: OpenActive's catalogue repository, and the files a registration edits (its README,
#: openactive/data-catalogs at 5d71607, 2025-06-30).
DATA_CATALOGS = "https://github.com/openactive/data-catalogs"
SINGULAR = "singular.jsonld"
COLLECTION = "data-catalog-collection.jsonld"


@dataclass(frozen=True)
class Registration:
    """What the data-catalogs pull request adds, and what it makes OpenActive check."""

    #: The file the pull request edits.
    file: str
    #: The array in it that gains the URL: ``dataset`` or ``hasPart``.
    array: str
    #: The URL added: the dataset site, or the data catalogue of organisation sites.
    url: str
    #: The dataset sites behind it, each validated by the Test Suite.
    sites: tuple[str, ...]

    def text(self) -> str:
        """The entry, ready to paste, with where it goes."""
        lines = [
            f"Open a pull request on {DATA_CATALOGS} editing {self.file}: add to its"
            f' "{self.array}" array',
            "",
            f"    {json.dumps(self.url)},",
            "",
        ]
        if self.array == "dataset":
            lines.append(
                "Its CI checks that the page's @id is exactly this URL and runs the"
                " OpenActive Test Suite's validate-feeds on it; both must pass before it is"
                " merged. `flask rpde validate --dataset-site` runs the same checks here."
            )
        else:
            lines.append(
                f"Its CI checks that the catalogue's @id is exactly this URL. The"
                f" {len(self.sites)} dataset site(s) it lists must each pass the Test"
                " Suite (the pull request's checklist asks for it):"
                " `flask rpde validate --dataset-site` checks every one:"
            )
            lines.extend(f"    {site}" for site in self.sites)
        return "\n".join(lines)


def registration(app: Flask, extension: RPDE) -> Registration:
    """The registration entry for ``app``'s dataset site(s), from what the app serves."""
    sites, origin = site_targets(app, extension)
    prefix = extension.state().settings.url_prefix
    if extension.organisation_sites is None:
        return Registration(SINGULAR, "dataset", sites[0][0], (sites[0][0],))
    catalog = f"{origin}{prefix}/data-catalog"
    return Registration(COLLECTION, "hasPart", catalog, tuple(url for url, _ in sites[1:]))


def site_targets(
    app: Flask, extension: RPDE, key: str | None = None
) -> tuple[list[tuple[str, list[Finding]]], str]:
    """The dataset sites of ``app`` to validate, each with the findings known beforehand
    (an organisation's settings that did not parse), and the origin they are served at.

    :param key: One organisation's site; by default the app's own site and every site its
        data catalogue lists.
    :raise LookupError: ``key`` names no organisation site.
    :raise RuntimeError: the data catalogue does not answer.
    """
    settings = extension.state().settings
    origin = settings.base_url or "http://localhost"
    prefix = settings.url_prefix
    if key is not None:
        if extension.organisation_sites is None or not is_valid_key(key):
            raise LookupError(f"{key!r} is neither a URL nor an organisation's key")
        with app.test_request_context(base_url=origin):
            if extension.organisation_sites.metadata(key) is None:
                raise LookupError(f"organisation {key!r} has no dataset site")
        url = f"{origin}{prefix}/organisations/{key}/"
        return [(url, settings_findings(app, extension, key))], origin
    sites: list[tuple[str, list[Finding]]] = [(f"{origin}{prefix}/", [])]
    if extension.organisation_sites is not None:
        for url in catalog_sites(app, f"{origin}{prefix}/data-catalog"):
            organisation = organisation_key(url, prefix)
            known = [] if organisation is None else settings_findings(app, extension, organisation)
            sites.append((url, known))
    return sites, origin


def catalog_sites(app: Flask, url: str) -> list[str]:
    """The dataset site URLs the data catalogue at ``url`` lists, read as consumers read it."""
    parts = urlsplit(url)
    response = app.test_client().get(parts.path, base_url=f"{parts.scheme}://{parts.netloc}")
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}.")
    document = json.loads(response.get_data(as_text=True))
    return [site for site in document.get("dataset", []) if isinstance(site, str)]


def organisation_key(url: str, prefix: str) -> str | None:
    """The organisation key in an organisation site's URL, if it is one of this app's."""
    path = urlsplit(url).path
    start = f"{prefix}/organisations/"
    if not path.startswith(start):
        return None
    key = unquote(path[len(start) :].rstrip("/"))
    return key if is_valid_key(key) else None


def settings_problems(app: Flask, extension: RPDE, key: str) -> list[str]:
    """What did not parse in organisation ``key``'s dataset-site settings (each problem
    is also logged as an error)."""
    provider = extension.organisation_sites
    if provider is None:
        return []
    with app.test_request_context():
        metadata = provider.metadata(key)
        if metadata is None:
            return []
        _, problems = dataset_settings().for_organisation(metadata, key)
    return problems


def settings_findings(app: Flask, extension: RPDE, key: str) -> list[Finding]:
    return [
        site_finding("site-settings", f"Organisation {key!r}: {problem}")
        for problem in settings_problems(app, extension, key)
    ]
