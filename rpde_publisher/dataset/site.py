"""What a dataset site says, resolved from its settings and the registered feeds (no Flask)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

from ..kinds import FeedType
from .licences import Licence
from .settings import DatasetSettings

__all__ = [
    "LAST_RESORT_KEYWORDS",
    "RPDE_MEDIA_TYPE",
    "SCHEMA_VERSION",
    "DatasetSite",
    "Distribution",
    "FeedLink",
    "build_site",
    "human_date",
    "humanised_list",
    "iso_date",
]

#: The version of OpenActive's Modelling Opportunity Data the feeds' items follow.
SCHEMA_VERSION = "https://openactive.io/modelling-opportunity-data/2.0/"
#: The ``encodingFormat`` of an RPDE 1.0 feed, exactly as OpenActive's validator wants it.
RPDE_MEDIA_TYPE = "application/vnd.openactive.rpde+json; version=1"
#: The keywords of a site whose settings and feeds give none: OpenActive's validator
#: requires at least one.
LAST_RESORT_KEYWORDS = ("OpenActive",)


@dataclass(frozen=True)
class FeedLink:
    """A registered feed as a dataset site lists it."""

    #: The feed's URL name, e.g. ``"session-series"``.
    name: str
    #: The RPDE ``kind`` of its items.
    kind: str
    #: OpenActive's feed type for the kind, if it is one OpenActive knows.
    feed_type: FeedType | None
    #: The absolute URL of the feed's first page.
    url: str


@dataclass(frozen=True)
class Distribution:
    """One feed as a ``DataDownload`` / ``dcat:Distribution``."""

    identifier: str
    name: str
    #: ``None`` when the feed's kind is not an OpenActive type (the checklist says so).
    additional_type: str | None
    content_url: str
    feed: FeedLink


@dataclass(frozen=True)
class DatasetSite:
    """Everything one dataset site shows, in the form the JSON-LD and the page use."""

    #: The canonical URL of the page: its ``@id`` and ``url``.
    url: str
    name: str
    description: str
    keywords: tuple[str, ...]
    licence: Licence
    settings: DatasetSettings
    distributions: tuple[Distribution, ...]
    #: The feeds' themes, e.g. ``("Sessions", "Facilities")``.
    themes: tuple[str, ...]
    #: ``RPDE_DATE_PUBLISHED`` as ISO 8601 (a date, or whole seconds with an offset).
    date_published: str | None
    #: When this page was rendered, whole seconds with an offset.
    date_modified: str
    #: The URL of the data catalogue this site belongs to, if any.
    catalog_url: str | None = None

    @property
    def publisher_name(self) -> str | None:
        return self.settings.publisher_name

    @property
    def owner_name(self) -> str | None:
        """Who owns the data, for the licence text: the legal name, else the name."""
        return self.settings.publisher_legal_name or self.settings.publisher_name

    @property
    def has_booking_service(self) -> bool:
        return bool(self.settings.platform_name or self.settings.test_suite_certificate_url)

    @property
    def has_access_service(self) -> bool:
        settings = self.settings
        return bool(
            settings.open_booking_api_base_url and settings.open_booking_api_registration_url
        )

    @property
    def copyright_year(self) -> int | None:
        published = self.settings.date_published
        return published.year if published is not None else None


def build_site(
    *,
    url: str,
    settings: DatasetSettings,
    licence: Licence,
    feeds: Sequence[FeedLink],
    now: datetime | None = None,
    catalog_url: str | None = None,
) -> DatasetSite:
    """Resolve a dataset site: derive what the settings leave unset from the feeds."""
    themes = tuple(
        dict.fromkeys(f.feed_type.theme for f in feeds if f.feed_type and f.feed_type.theme)
    )
    publisher = settings.publisher_name
    listed = humanised_list(themes) if themes else "Opportunity Data"
    name = settings.name or (f"{publisher} {listed}" if publisher else f"{listed} Open Data")
    description = settings.description or (
        "Near real-time availability and rich descriptions relating to the "
        + listed.lower()
        + (f" available from {publisher}" if publisher else " in these feeds")
    )
    keywords = settings.keywords or (
        tuple(dict.fromkeys((*themes, *(settings.general_keywords or ())))) or LAST_RESORT_KEYWORDS
    )
    return DatasetSite(
        url=url,
        name=name,
        description=description,
        keywords=keywords,
        licence=licence,
        settings=settings,
        distributions=tuple(_distributions(feeds)),
        themes=themes,
        date_published=iso_date(settings.date_published),
        date_modified=iso_date(now or datetime.now(UTC)) or "",
        catalog_url=catalog_url,
    )


def _distributions(feeds: Sequence[FeedLink]) -> list[Distribution]:
    """One per feed; identifiers are the feed types' unless two feeds share a type."""
    types = [f.feed_type.identifier if f.feed_type else None for f in feeds]
    distributions = []
    taken: set[str] = set()
    for feed, identifier in zip(feeds, types, strict=True):
        if identifier is None or types.count(identifier) > 1:
            # OpenActive's test suite refuses a distribution that repeats an identifier.
            identifier = feed.name
        while identifier in taken:
            identifier += "-feed"
        taken.add(identifier)
        feed_type = feed.feed_type
        distributions.append(
            Distribution(
                identifier=identifier,
                name=feed_type.name if feed_type else feed.kind,
                additional_type=feed_type.additional_type if feed_type else None,
                content_url=feed.url,
                feed=feed,
            )
        )
    return distributions


def humanised_list(words: Sequence[str]) -> str:
    """``["Sessions", "Facilities", "Courses"]`` as ``"Sessions, Facilities and Courses"``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def iso_date(value: date | datetime | None) -> str | None:
    """A date as ``YYYY-MM-DD``; a datetime in whole seconds with an offset (UTC if naive).

    OpenActive's validator refuses fractional seconds and times without an offset.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


def human_date(value: str) -> str:
    """An ISO 8601 date or date and time from :func:`iso_date`, as people write it.

    ``"2026-01-05"`` gives ``"5 January 2026"``; ``"2026-01-05T09:30:00+00:00"`` gives
    ``"5 January 2026, 09:30 UTC"``.
    """
    if len(value) == 10:
        parsed = date.fromisoformat(value)
        return f"{parsed.day} {parsed:%B %Y}"
    moment = datetime.fromisoformat(value)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    zone = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}" if minutes else "UTC"
    return f"{moment.day} {moment:%B %Y}, {moment:%H:%M} {zone}"
