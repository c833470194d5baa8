"""The dataset site's JSON-LD: the ``Dataset``, the ``DataCatalog``, and HTML-safe JSON."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Sequence

from ..pruning import prune
from .licences import Licence
from .settings import DatasetSettings
from .site import DatasetSite
from .site import iso_date
from .site import RPDE_MEDIA_TYPE
from .site import SCHEMA_VERSION

__all__ = [
    "CATALOG_CONTEXT",
    "DATASET_CONTEXT",
    "JSON",
    "OPEN_BOOKING_API_CONFORMS_TO",
    "OPEN_BOOKING_API_DESCRIPTION",
    "catalog_jsonld",
    "dataset_jsonld",
    "publisher_jsonld",
    "script_json",
]

DATASET_CONTEXT = ["https://schema.org/", "https://openactive.io/"]
#: A ``DataCatalog`` takes the schema.org context alone, as a string.
CATALOG_CONTEXT = "https://schema.org/"
OPEN_BOOKING_API_CONFORMS_TO = ["https://openactive.io/open-booking-api/EditorsDraft/"]
OPEN_BOOKING_API_DESCRIPTION = (
    "https://www.openactive.io/open-booking-api/EditorsDraft/swagger.json"
)

JSON = dict[str, t.Any]


def dataset_jsonld(site: DatasetSite) -> JSON:
    """The schema.org ``Dataset`` that OpenActive's tools read from a dataset site."""
    settings = site.settings
    dataset: JSON = {
        "@context": list(DATASET_CONTEXT),
        "@type": "Dataset",
        "@id": site.url,
        "url": site.url,
        "name": site.name,
        "description": site.description,
        "accessService": _access_service(site) if site.has_access_service else None,
        "keywords": list(site.keywords),
        "license": site.licence.url,
        "distribution": [
            {
                "@type": "DataDownload",
                "name": d.name,
                "additionalType": d.additional_type,
                "contentUrl": d.content_url,
                "encodingFormat": RPDE_MEDIA_TYPE,
                "identifier": d.identifier,
            }
            for d in site.distributions
        ],
        "discussionUrl": settings.discussion_url,
        "documentation": settings.documentation_url,
        "inLanguage": list(settings.languages or ()),
        "publisher": publisher_jsonld(settings),
        "dateModified": site.date_modified,
        "datePublished": site.date_published,
        "schemaVersion": SCHEMA_VERSION,
        "bookingService": _booking_service(settings) if site.has_booking_service else None,
        "backgroundImage": _image(settings.background_image),
    }
    return t.cast(JSON, prune(dataset, bare_types_are_empty=True))


def catalog_jsonld(
    *,
    url: str,
    name: str,
    settings: DatasetSettings,
    licence: Licence,
    dataset_urls: Sequence[str],
) -> JSON:
    """The ``DataCatalog`` listing dataset sites, for OpenActive's catalogue collection."""
    catalog = prune(
        {
            "@context": CATALOG_CONTEXT,
            "@type": "DataCatalog",
            "@id": url,
            "name": name,
            "datePublished": iso_date(settings.date_published),
            "publisher": publisher_jsonld(settings),
            "license": licence.url,
            "dataset": list(dataset_urls),
        },
        bare_types_are_empty=True,
    )
    return t.cast(JSON, catalog)


def publisher_jsonld(settings: DatasetSettings) -> JSON:
    """The ``Organization`` that publishes the data."""
    return {
        "@type": "Organization",
        "name": settings.publisher_name,
        "legalName": settings.publisher_legal_name,
        "description": settings.publisher_description,
        "email": settings.publisher_email,
        "url": settings.publisher_url,
        "logo": _image(settings.publisher_logo),
    }


def _access_service(site: DatasetSite) -> JSON:
    settings = site.settings
    themes = " and ".join(site.themes).lower() or "opportunities"
    available_from = f" available from {site.publisher_name}" if site.publisher_name else ""
    return {
        "@type": "WebAPI",
        "name": "Open Booking API",
        "description": (
            f"An API that allows for seamless booking experiences to be created for {themes}"
            + available_from
        ),
        "authenticationAuthority": settings.open_booking_api_authentication_authority_url,
        "conformsTo": list(OPEN_BOOKING_API_CONFORMS_TO),
        "documentation": settings.open_booking_api_documentation_url,
        "endpointDescription": OPEN_BOOKING_API_DESCRIPTION,
        "endpointUrl": settings.open_booking_api_base_url,
        "landingPage": settings.open_booking_api_registration_url,
        "termsOfService": settings.open_booking_api_terms_of_service_url,
    }


def _booking_service(settings: DatasetSettings) -> JSON:
    return {
        "@type": "BookingService",
        "name": settings.platform_name,
        "url": settings.platform_url,
        "softwareVersion": settings.platform_version,
        "hasCredential": settings.test_suite_certificate_url,
    }


def _image(url: str | None) -> JSON | None:
    return {"@type": "ImageObject", "url": url} if url else None


# What must not appear raw inside <script>: "</script>" or "<!--" would end or confuse
# the element, and U+2028/U+2029 are line ends to some JavaScript tooling.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def script_json(value: t.Any) -> str:
    """``value`` as indented JSON that is safe to place inside a ``<script>`` element.

    The escapes are JSON escapes, so a JSON parser reads back exactly ``value``.
    """
    return json.dumps(value, indent=2, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
