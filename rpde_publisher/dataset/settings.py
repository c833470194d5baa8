"""The dataset site's ``RPDE_*`` keys: publisher metadata, checked at start-up."""

from __future__ import annotations

import logging
import re
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import UTC
from urllib.parse import urlsplit

from ..errors import ConfigurationError

__all__ = [
    "DATASET_DEFAULTS",
    "OPEN_BOOKING_DOCUMENTATION",
    "OPEN_DATA_DOCUMENTATION",
    "ORGANISATION_KEYS",
    "DatasetSettings",
    "DatePublished",
    "Parser",
    "config_key",
]

logger = logging.getLogger("rpde_publisher")

#: OpenActive's page for data users, the usual ``documentation`` of a dataset site.
OPEN_DATA_DOCUMENTATION = "https://permalink.openactive.io/dataset-site/open-data-documentation"
#: OpenActive's page for Open Booking API users.
OPEN_BOOKING_DOCUMENTATION = (
    "https://permalink.openactive.io/dataset-site/open-booking-api-documentation"
)

#: The dataset site's configuration keys and their defaults, set with ``setdefault``
#: when the extension is initialised, like :data:`rpde_publisher.settings.DEFAULTS`.
DATASET_DEFAULTS: dict[str, t.Any] = {
    "RPDE_PUBLISHER_NAME": None,
    "RPDE_PUBLISHER_LEGAL_NAME": None,
    "RPDE_PUBLISHER_DESCRIPTION": None,
    "RPDE_PUBLISHER_URL": None,
    "RPDE_PUBLISHER_LOGO": None,
    "RPDE_PUBLISHER_EMAIL": None,
    "RPDE_DATASET_NAME": None,
    "RPDE_DATASET_DESCRIPTION": None,
    "RPDE_DATASET_KEYWORDS": None,
    # Words that fit any OpenActive publisher: OpenActive's template adds "Sports" and
    # "Physical Activity" too, which not every publisher's data is about.
    "RPDE_DATASET_GENERAL_KEYWORDS": ["Activities", "OpenActive"],
    "RPDE_DATASET_LANGUAGES": ["en-GB"],
    "RPDE_DATE_PUBLISHED": None,
    "RPDE_BACKGROUND_IMAGE": None,
    "RPDE_DISCUSSION_URL": None,
    "RPDE_DOCUMENTATION_URL": OPEN_DATA_DOCUMENTATION,
    "RPDE_PLATFORM_NAME": None,
    "RPDE_PLATFORM_URL": None,
    "RPDE_PLATFORM_VERSION": None,
    "RPDE_TEST_SUITE_CERTIFICATE_URL": None,
    "RPDE_OPEN_BOOKING_API_BASE_URL": None,
    "RPDE_OPEN_BOOKING_API_REGISTRATION_URL": None,
    "RPDE_OPEN_BOOKING_API_AUTHENTICATION_AUTHORITY_URL": None,
    "RPDE_OPEN_BOOKING_API_DOCUMENTATION_URL": OPEN_BOOKING_DOCUMENTATION,
    "RPDE_OPEN_BOOKING_API_TERMS_OF_SERVICE_URL": None,
    "RPDE_DATA_CATALOG_NAME": None,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s<>\"'()\[\]\\,;:]+@[^@\s<>\"'()\[\]\\,;:]+\.[A-Za-z0-9-]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

DatePublished = date | datetime
#: Organisation problems already logged, by key and text (bounded: keys come from URLs).
_logged_problems: set[tuple[str, str]] = set()
_MAX_LOGGED_PROBLEMS = 10_000


def _text(value: t.Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{key} must be a string, got {value!r}.")
    value = _CONTROL.sub("", value).strip()
    return value or None


def _url(value: t.Any, key: str) -> str | None:
    text = _text(value, key)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", text):
        raise ConfigurationError(
            f"{key} must be an absolute http(s) URL such as 'https://example.org/', got {value!r}."
        )
    return text


def _email(value: t.Any, key: str) -> str | None:
    text = _text(value, key)
    if text is None:
        return None
    text = text.removeprefix("mailto:")
    if not _EMAIL.match(text):
        raise ConfigurationError(
            f"{key} must be an email address such as 'opendata@example.org', got {value!r}."
        )
    return text


def _words(value: t.Any, key: str) -> tuple[str, ...] | None:
    """A list of strings, or one comma-separated string (as environment variables give)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(
            f"{key} must be a list of strings or a comma-separated string, got {value!r}."
        )
    words = tuple(dict.fromkeys(w for w in (_text(v, key) for v in value) if w))
    return words or None


def _languages(value: t.Any, key: str) -> tuple[str, ...] | None:
    languages = _words(value, key)
    for language in languages or ():
        if not _LANGUAGE.match(language):
            raise ConfigurationError(
                f"{key} must hold IETF BCP 47 language tags such as 'en-GB', got {language!r}."
            )
    return languages


def _date(value: t.Any, key: str) -> DatePublished | None:
    if value is None or value == "":
        return None
    parsed: t.Any = value
    if isinstance(value, str):
        try:
            parsed = (date if len(value.strip()) == 10 else datetime).fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if not isinstance(parsed, date):
        raise ConfigurationError(
            f"{key} must be a date or a date and time such as '2026-01-05' or"
            f" '2026-01-05T09:00:00+00:00', got {value!r}."
        )
    if isinstance(parsed, datetime):
        aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        return aware.replace(microsecond=0)
    return parsed


Parser = Callable[[t.Any, str], t.Any]

# Config key -> (attribute, parser). Keys that a per-organisation site inherits from the
# app when the provider does not set them are marked True: they describe the platform or
# the documentation, not who publishes.
_FIELDS: dict[str, tuple[str, Parser, bool]] = {
    "RPDE_PUBLISHER_NAME": ("publisher_name", _text, False),
    "RPDE_PUBLISHER_LEGAL_NAME": ("publisher_legal_name", _text, False),
    "RPDE_PUBLISHER_DESCRIPTION": ("publisher_description", _text, False),
    "RPDE_PUBLISHER_URL": ("publisher_url", _url, False),
    "RPDE_PUBLISHER_LOGO": ("publisher_logo", _url, False),
    "RPDE_PUBLISHER_EMAIL": ("publisher_email", _email, False),
    "RPDE_DATASET_NAME": ("name", _text, False),
    "RPDE_DATASET_DESCRIPTION": ("description", _text, False),
    "RPDE_DATASET_KEYWORDS": ("keywords", _words, False),
    "RPDE_DATASET_GENERAL_KEYWORDS": ("general_keywords", _words, True),
    "RPDE_DATASET_LANGUAGES": ("languages", _languages, True),
    "RPDE_DATE_PUBLISHED": ("date_published", _date, False),
    "RPDE_BACKGROUND_IMAGE": ("background_image", _url, False),
    "RPDE_DISCUSSION_URL": ("discussion_url", _url, True),
    "RPDE_DOCUMENTATION_URL": ("documentation_url", _url, True),
    "RPDE_PLATFORM_NAME": ("platform_name", _text, True),
    "RPDE_PLATFORM_URL": ("platform_url", _url, True),
    "RPDE_PLATFORM_VERSION": ("platform_version", _text, True),
    "RPDE_TEST_SUITE_CERTIFICATE_URL": ("test_suite_certificate_url", _url, True),
    "RPDE_OPEN_BOOKING_API_BASE_URL": ("open_booking_api_base_url", _url, False),
    "RPDE_OPEN_BOOKING_API_REGISTRATION_URL": ("open_booking_api_registration_url", _url, False),
    "RPDE_OPEN_BOOKING_API_AUTHENTICATION_AUTHORITY_URL": (
        "open_booking_api_authentication_authority_url",
        _url,
        False,
    ),
    "RPDE_OPEN_BOOKING_API_DOCUMENTATION_URL": ("open_booking_api_documentation_url", _url, True),
    "RPDE_OPEN_BOOKING_API_TERMS_OF_SERVICE_URL": (
        "open_booking_api_terms_of_service_url",
        _url,
        False,
    ),
}

#: The keys a :class:`~rpde_publisher.dataset.organisations.DatasetProvider` may return.
#: The licence is not among them: one licence covers the feeds every site lists.
ORGANISATION_KEYS = frozenset(_FIELDS)


@dataclass(frozen=True)
class DatasetSettings:
    """The metadata of one dataset site; ``None`` means unset, and is never published."""

    publisher_name: str | None = None
    publisher_legal_name: str | None = None
    publisher_description: str | None = None
    publisher_url: str | None = None
    publisher_logo: str | None = None
    publisher_email: str | None = None
    #: Overrides the name derived from the publisher and the feeds' themes.
    name: str | None = None
    #: Overrides the description derived likewise.
    description: str | None = None
    #: Overrides the keywords derived from the feeds' themes.
    keywords: tuple[str, ...] | None = None
    #: The keywords after the feeds' themes, when :attr:`keywords` is unset.
    general_keywords: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    date_published: DatePublished | None = None
    background_image: str | None = None
    discussion_url: str | None = None
    documentation_url: str | None = None
    platform_name: str | None = None
    platform_url: str | None = None
    platform_version: str | None = None
    test_suite_certificate_url: str | None = None
    open_booking_api_base_url: str | None = None
    open_booking_api_registration_url: str | None = None
    open_booking_api_authentication_authority_url: str | None = None
    open_booking_api_documentation_url: str | None = None
    open_booking_api_terms_of_service_url: str | None = None
    #: The name of the ``DataCatalog`` of organisation sites (app settings only).
    data_catalog_name: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> DatasetSettings:
        """Validate the app's dataset keys; raise :exc:`ConfigurationError` on a bad one."""
        values = {attr: parse(config.get(key), key) for key, (attr, parse, _) in _FIELDS.items()}
        catalog_name = _text(config.get("RPDE_DATA_CATALOG_NAME"), "RPDE_DATA_CATALOG_NAME")
        settings = cls(**values, data_catalog_name=catalog_name)
        if settings.open_booking_api_base_url and not settings.open_booking_api_registration_url:
            raise ConfigurationError(
                "RPDE_OPEN_BOOKING_API_REGISTRATION_URL is required with"
                " RPDE_OPEN_BOOKING_API_BASE_URL: it is the page where booking partners"
                " ask for access (the access service's landingPage)."
            )
        return settings

    def for_organisation(
        self, metadata: Mapping[str, t.Any], key: str
    ) -> tuple[DatasetSettings, list[str]]:
        """The settings of organisation ``key``'s site, and the problems found in them.

        ``metadata`` holds ``RPDE_*`` keys (see :data:`ORGANISATION_KEYS`). Platform and
        documentation keys it leaves out are inherited from these (the app's) settings;
        publisher keys are not. A value that does not parse (it comes from the
        organisation's row, which its own staff may edit) is left out, logged as an error
        and returned as a problem, rather than refused: the rest of the site, all of it
        true, is still published. It is never replaced by the app's own value, which
        would describe the platform, not the organisation.

        :raise ConfigurationError: ``metadata`` is not a mapping, or holds a key that is
            not one of :data:`ORGANISATION_KEYS` (a mistake in the provider's code).
        """
        if not isinstance(metadata, Mapping):
            raise ConfigurationError(
                f"The dataset provider must return a mapping of RPDE_* keys or None for"
                f" organisation {key!r}, got {metadata!r}."
            )
        unknown = sorted(str(k) for k in metadata if k not in ORGANISATION_KEYS)
        if unknown:
            raise ConfigurationError(
                f"The dataset provider returned keys an organisation's site cannot set for"
                f" {key!r}: {', '.join(unknown)}. Allowed: {', '.join(sorted(ORGANISATION_KEYS))}."
            )
        values: dict[str, t.Any] = {
            attr: getattr(self, attr) if inherited else None
            for attr, _, inherited in _FIELDS.values()
        }
        problems = []
        for config_key, value in metadata.items():
            attr, parse, _ = _FIELDS[config_key]
            try:
                values[attr] = parse(value, config_key)
            except ConfigurationError as exc:
                problems.append(str(exc))
                values[attr] = None
        settings = replace(self, **values)
        if settings.open_booking_api_base_url and not settings.open_booking_api_registration_url:
            problems.append(
                "RPDE_OPEN_BOOKING_API_REGISTRATION_URL is missing, so the Open Booking API"
                " is left out."
            )
            settings = replace(settings, open_booking_api_base_url=None)
        for problem in problems:
            if (key, problem) in _logged_problems:
                continue  # once per process: the site is rendered again and again
            if len(_logged_problems) < _MAX_LOGGED_PROBLEMS:
                _logged_problems.add((key, problem))
            # An error, not a warning: the value is left out, never replaced by the app's
            # own (which would say something false about the organisation), so a property
            # OpenActive requires may be missing and the site fail registration.
            logger.error(
                "Dataset site of organisation %r: %s The value is left out of its site;"
                " `flask rpde checklist` lists what that site lacks.",
                key,
                problem,
            )
        return settings, problems


def config_key(attribute: str) -> str:
    """The ``RPDE_*`` key that sets a :class:`DatasetSettings` attribute."""
    for key, (attr, _, _) in _FIELDS.items():
        if attr == attribute:
            return key
    if attribute == "data_catalog_name":
        return "RPDE_DATA_CATALOG_NAME"
    raise KeyError(attribute)
