"""A dataset site's JSON-LD checked as OpenActive's data-model-validator checks it in
``DatasetSite`` mode (the checks whose failures stop the Test Suite)."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import urlsplit

from ..openactive.definitions import in_spec
from ..openactive.definitions import recommended_fields
from ..openactive.definitions import required_fields
from .findings import Finding
from .site_rules import site_finding

__all__ = [
    "CC_BY_4",
    "CONTEXT",
    "IN_SPEC",
    "RECOMMENDED",
    "REQUIRED",
    "RPDE_MEDIA_TYPE",
    "SCHEMA_ORG_THING",
    "SETTINGS",
    "URLS",
    "check_dataset_jsonld",
    "is_url",
]

CONTEXT = ["https://schema.org/", "https://openactive.io/"]
CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"
RPDE_MEDIA_TYPE = "application/vnd.openactive.rpde+json; version=1"

#: The types a dataset site's JSON-LD holds.
_SITE_MODELS = (
    "Dataset",
    "Organization",
    "DataDownload",
    "ImageObject",
    "WebAPI",
    "BookingService",
)
#: Required properties per type, from OpenActive's data models in DatasetSite mode.
REQUIRED: dict[str, tuple[str, ...]] = {
    name: fields for name in _SITE_MODELS if (fields := required_fields(name, "DatasetSite"))
}
RECOMMENDED = recommended_fields("Dataset", "DatasetSite")
#: The properties OpenActive's data models define for each type (their ``inSpec``); the
#: root ``Dataset`` carries ``@context`` too.
IN_SPEC: dict[str, frozenset[str]] = {name: in_spec(name) for name in _SITE_MODELS}
IN_SPEC["Dataset"] |= {"@context"}
#: schema.org's properties of every Thing: outside OpenActive's models, but the validator
#: finds them in schema.org and only notes them (with schema.org's context loaded).
SCHEMA_ORG_THING = frozenset(
    (
        "additionalType", "alternateName", "description", "disambiguatingDescription",
        "identifier", "image", "mainEntityOfPage", "name", "potentialAction", "sameAs",
        "subjectOf", "url",
    )
)  # fmt: skip
#: Properties typed as a URL, per type.
URLS: dict[str, tuple[str, ...]] = {
    "Dataset": ("url", "license", "discussionUrl", "documentation", "schemaVersion"),
    "Organization": ("url",),
    "DataDownload": ("additionalType", "contentUrl"),
    "ImageObject": ("url",),
    "WebAPI": (
        "endpointUrl",
        "endpointDescription",
        "landingPage",
        "documentation",
        "termsOfService",
        "authenticationAuthority",
    ),  # fmt: skip
    "BookingService": ("url", "hasCredential"),
}
#: The settings of rpde_publisher that fill each property, for the message's hint.
SETTINGS: dict[str, str] = {
    "name": "RPDE_DATASET_NAME or RPDE_PUBLISHER_NAME",
    "description": "RPDE_DATASET_DESCRIPTION or RPDE_PUBLISHER_NAME",
    "keywords": "RPDE_DATASET_KEYWORDS",
    "discussionUrl": "RPDE_DISCUSSION_URL",
    "documentation": "RPDE_DOCUMENTATION_URL",
    "inLanguage": "RPDE_DATASET_LANGUAGES",
    "datePublished": "RPDE_DATE_PUBLISHED",
    "backgroundImage": "RPDE_BACKGROUND_IMAGE",
    "publisher": "RPDE_PUBLISHER_NAME",
    "publisher.name": "RPDE_PUBLISHER_NAME",
    "publisher.legalName": "RPDE_PUBLISHER_LEGAL_NAME",
    "publisher.url": "RPDE_PUBLISHER_URL",
    "publisher.logo": "RPDE_PUBLISHER_LOGO",
    "distribution": "rpde.feed(...)",
}

# The validator's URL pattern (its helpers/property.js, adapted from dperini's): http(s),
# a dotted host with a letter TLD, an IPv4 address or localhost, an optional port.
_URL = re.compile(
    r"^(?:https?://)(?:"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    r"|localhost"
    r"|(?:(?:[a-z0-9\u00a1-\uffff][a-z0-9\u00a1-\uffff_-]{0,62})?[a-z0-9\u00a1-\uffff]\.)+"
    r"(?:[a-z\u00a1-\uffff]{2,}\.?)"
    r")(?::\d{2,5})?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)
# The validator's DateTime (its classes/field.js and format rules): whole seconds, with a
# zone; a Date is YYYY-MM-DD.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_url(value: t.Any) -> bool:
    """Whether OpenActive's validator takes ``value`` for a URL."""
    return isinstance(value, str) and _URL.match(value) is not None


def check_dataset_jsonld(jsonld: t.Any, url: str, *, hints: bool = False) -> list[Finding]:
    """The faults the Test Suite's ``DatasetSite`` validation (and the catalogue's ``@id``
    check) would find in the JSON-LD of the dataset site registered at ``url``.

    :param hints: Name the rpde_publisher setting behind a missing property.
    """
    if not isinstance(jsonld, dict):
        return [site_finding("site-page", "The page has no JSON-LD object to read.", url)]
    checker = _Checker(hints)
    if jsonld.get("@id") != url:
        checker.add(
            "site-id",
            f"@id is {jsonld.get('@id')!r}, not the URL {url!r}: the catalogue's CI"
            " compares them character for character (scheme, host and trailing slash"
            " included).",
        )
    context = jsonld.get("@context")
    if not isinstance(context, list) or context[:2] != CONTEXT:
        checker.add(
            "site-context",
            f"@context is {context!r}; a dataset site's must be {CONTEXT!r} (more may follow).",
        )
    checker.empty(jsonld, "")
    checker.node(jsonld, "Dataset", "")
    if jsonld.get("@type") not in (None, "Dataset"):
        checker.add("site-values", f"@type is {jsonld.get('@type')!r}, not 'Dataset'.")
    checker.fixed(jsonld, "license", CC_BY_4, "")
    for key in ("keywords", "inLanguage"):
        checker.strings(jsonld, key)
    checker.dates(jsonld)
    for key in RECOMMENDED:
        if key not in jsonld:
            checker.add(
                "site-recommended",
                f"Recommended property `{key}` is missing from `Dataset`." + checker.hint(key),
            )
    checker.discussion(jsonld.get("discussionUrl"))
    publisher = jsonld.get("publisher")
    if isinstance(publisher, dict):
        checker.node(publisher, "Organization", "publisher.")
        if publisher.get("@type") not in (None, "Organization"):
            checker.add("site-values", "publisher's @type must be 'Organization'.")
        checker.image(publisher.get("logo"), "publisher.logo")
    elif "publisher" in jsonld:
        checker.add("site-values", "publisher must be an Organization object.")
    checker.image(jsonld.get("backgroundImage"), "backgroundImage")
    distribution = jsonld.get("distribution")
    if isinstance(distribution, list):
        for index, download in enumerate(distribution):
            where = f"distribution[{index}]."
            if not isinstance(download, dict):
                checker.add("site-values", f"{where[:-1]} is not a DataDownload object.")
                continue
            checker.node(download, "DataDownload", where)
            checker.fixed(download, "@type", "DataDownload", where)
            checker.fixed(download, "encodingFormat", RPDE_MEDIA_TYPE, where)
    elif "distribution" in jsonld:
        checker.add("site-values", "distribution must be an array of DataDownload objects.")
    access = jsonld.get("accessService")
    if isinstance(access, dict):
        checker.node(access, "WebAPI", "accessService.")
    booking = jsonld.get("bookingService")
    if isinstance(booking, dict):
        checker.node(booking, "BookingService", "bookingService.")
        if not booking.get("name") and not booking.get("hasCredential"):
            checker.add(
                "site-required",
                "When publishing a `BookingService`, a data publisher must provide at least"
                " one of `name`, `hasCredential` (set RPDE_PLATFORM_NAME or"
                " RPDE_TEST_SUITE_CERTIFICATE_URL).",
            )
    return checker.findings


class _Checker:
    def __init__(self, hints: bool) -> None:
        self.findings: list[Finding] = []
        self._hints = hints

    def add(self, rule: str, message: str) -> None:
        self.findings.append(site_finding(rule, message))

    def hint(self, path: str) -> str:
        setting = SETTINGS.get(path)
        return f" Set {setting}." if self._hints and setting else ""

    def node(self, node: dict[str, t.Any], model: str, where: str) -> None:
        for key in node:
            if key not in IN_SPEC[model] and key not in SCHEMA_ORG_THING:
                self.add(
                    "site-values",
                    f"{where}{key}: This property is not defined in the OpenActive"
                    f" specification for `{model}`, and OpenActive's validator fails it"
                    " (use an extension property, `ext:...`, with a published context).",
                )
        for key in REQUIRED.get(model, ()):
            if key not in node:
                self.add(
                    "site-required",
                    f"Required property `{key}` is missing from `{model}` ({where}{key})."
                    + self.hint(where + key),
                )
        for key in URLS.get(model, ()):
            value = node.get(key)
            if value is not None and value != "" and not is_url(value):
                self.add(
                    "site-values",
                    f"{where}{key} is {value!r}, which OpenActive's validator does not take for"
                    " a URL (absolute http(s), with a host it recognises).",
                )
        if model == "WebAPI":
            conforms = node.get("conformsTo")
            if conforms is not None and not (
                isinstance(conforms, list) and all(is_url(v) for v in conforms)
            ):
                self.add("site-values", f"{where}conformsTo must be an array of URLs.")

    def fixed(self, node: dict[str, t.Any], key: str, value: str, where: str) -> None:
        if key in node and node[key] != value:
            self.add(
                "site-values",
                f"{where}{key} is {node[key]!r}: Value is not an allowed value for this"
                f" property. Must be {value!r}.",
            )

    def strings(self, node: dict[str, t.Any], key: str) -> None:
        value = node.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            self.add("site-values", f"{key} must be an array of strings, got {value!r}.")

    def dates(self, node: dict[str, t.Any]) -> None:
        modified, published = node.get("dateModified"), node.get("datePublished")
        if modified is not None and not (isinstance(modified, str) and _DATETIME.match(modified)):
            self.add(
                "site-values",
                f"dateModified is {modified!r}: a DateTime in whole seconds with a zone,"
                " such as '2018-08-01T10:51:02Z'.",
            )
        if published is not None and not (
            isinstance(published, str) and (_DATETIME.match(published) or _DATE.match(published))
        ):
            self.add(
                "site-values",
                f"datePublished is {published!r}: a Date ('2018-08-01') or a DateTime in"
                " whole seconds with a zone.",
            )

    def image(self, value: t.Any, where: str) -> None:
        if isinstance(value, dict):
            self.node(value, "ImageObject", where + ".")
            self.fixed(value, "@type", "ImageObject", where + ".")
        elif value is not None:
            self.add("site-values", f"{where} must be an ImageObject with a url.")

    def discussion(self, value: t.Any) -> None:
        # The data-model-validator has a rule for this, but its release 3.0.3 (the one
        # the Test Suite installs) does not register it; the catalogue's reviewers check it.
        if not isinstance(value, str) or not is_url(value):
            return
        parts = urlsplit(value)
        if parts.hostname == "github.com" and parts.path.endswith("/issues"):
            return
        where = (
            "points to GitHub but not to a repository's /issues page"
            if parts.hostname == "github.com"
            else "is not on GitHub"
        )
        self.add(
            "site-discussion",
            f"discussionUrl {value!r} {where}: OpenActive's data-catalogs reviewers require"
            " every dataset site to reference a GitHub Issues Board, such as"
            " https://github.com/ORG/REPO/issues." + self.hint("discussionUrl"),
        )

    def empty(self, value: t.Any, path: str) -> None:
        """Null, "" and [] anywhere (the validator's no-empty-values rule)."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.empty(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            if not value and path:
                self.add("site-empty", f"{path} is an empty array: leave it out.")
            for index, item in enumerate(value):
                self.empty(item, f"{path}[{index}]")
        elif value is None or value == "":
            shown = "null" if value is None else "an empty string"
            self.add("site-empty", f"{path} is {shown}: leave it out.")
