"""A dataset site per organisation, from a provider reading the organisations' rows."""

from __future__ import annotations

import logging
import shutil
import typing as t
from collections.abc import Iterator
from collections.abc import Mapping

import pytest
from rdflib import URIRef
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from rpde_publisher import ConfigurationError
from rpde_publisher import RPDE

from .dataset_apps import BASE
from .dataset_apps import HOSTILE
from .dataset_apps import organisation_settings
from .dataset_apps import site_app
from .extract import DCAT
from .extract import DCTERMS
from .extract import FOAF
from .extract import ODRS
from .extract import RDF
from .test_dataset_site import get_site
from .test_dataset_site import RPDE_MEDIA_TYPE

PLATFORM = {
    "RPDE_BASE_URL": BASE,
    "RPDE_PUBLISHER_NAME": "Harbour Booking Platform",
    "RPDE_PUBLISHER_LEGAL_NAME": "Harbour Booking Ltd",
    "RPDE_PUBLISHER_URL": "https://booking.example.com/",
    "RPDE_PUBLISHER_LOGO": "https://booking.example.com/logo.png",
    "RPDE_PUBLISHER_EMAIL": "platform@booking.example.com",
    "RPDE_DISCUSSION_URL": "https://github.com/harbour-booking/opendata/issues",
    "RPDE_PLATFORM_NAME": "Harbour Booking",
    "RPDE_DATE_PUBLISHED": "2024-06-01",
}


class OrganisationSites:
    """A provider as a booking system would write it: one query per call, on the app's session."""

    def __init__(self, models: t.Any, session: t.Any) -> None:
        self.models = models
        self.session = session
        self.calls: list[str] = []
        self.broken = False

    def keys(self) -> Iterator[str]:
        if self.broken:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        Organisation = self.models.Organisation
        query = select(Organisation.id).where(Organisation.publishes_open_data.is_(True))
        return (f"org-{id}" for id in self.session().scalars(query.order_by(Organisation.id)))

    def metadata(self, key: str) -> Mapping[str, t.Any] | None:
        self.calls.append(key)
        if self.broken:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        if not key.startswith("org-") or not key[4:].isdigit():
            return None
        organisation = self.session().get(self.models.Organisation, int(key[4:]))
        if organisation is None or not organisation.publishes_open_data:
            return None
        return organisation_settings(organisation.name)


@pytest.fixture
def organisations(sqlite_engine: Engine, rpde: RPDE, models: t.Any) -> t.Any:
    """The test app with three organisations (one opted out) and a provider for them."""
    app = site_app(sqlite_engine, rpde, models, **PLATFORM)
    session = app.extensions["test_session"]
    with app.app_context():
        session.add_all(
            [
                models.Organisation(name="Quay Swimming Club"),
                models.Organisation(name="Dockside Climbing", publishes_open_data=False),
                models.Organisation(name="Lighthouse Gym"),
            ]
        )
        session.commit()
    provider = OrganisationSites(models, session)
    rpde.dataset_provider(provider)
    return app, provider


def org_url(key: str) -> str:
    return f"{BASE}/openactive/organisations/{key}/"


def test_each_organisation_has_its_own_site(organisations: t.Any) -> None:
    app, _ = organisations
    site = get_site(app, "/openactive/organisations/org-1/")
    dataset = site.dataset
    assert dataset["@id"] == dataset["url"] == org_url("org-1")
    assert dataset["name"] == "Quay Swimming Club Sessions, Facilities and Events"
    assert dataset["description"].endswith("available from Quay Swimming Club")
    assert dataset["publisher"] == {
        "@type": "Organization",
        "name": "Quay Swimming Club",
        "legalName": "Quay Swimming Club CIC",
        "email": "hello@quay-swimming-club.example.org",
        "url": "https://quay-swimming-club.example.org/",
        "logo": {"@type": "ImageObject", "url": "https://quay-swimming-club.example.org/logo.png"},
    }
    assert dataset["datePublished"] == "2025-09-15"
    # Platform and documentation settings are inherited from the app; the licence is one.
    assert dataset["discussionUrl"] == PLATFORM["RPDE_DISCUSSION_URL"]
    assert dataset["documentation"].startswith("https://permalink.openactive.io/")
    assert dataset["bookingService"] == {"@type": "BookingService", "name": "Harbour Booking"}
    assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    # The same feeds as the platform's own site, on the same URLs.
    platform = get_site(app).dataset
    assert dataset["distribution"] == platform["distribution"]
    assert [d["contentUrl"] for d in dataset["distribution"]] == [
        BASE + "/openactive/feeds/session-series",
        BASE + "/openactive/feeds/facility-uses",
        BASE + "/openactive/feeds/events",
    ]
    assert all(d["encodingFormat"] == RPDE_MEDIA_TYPE for d in dataset["distribution"])


class KeywordSites:
    """A provider whose climbing club names its own keywords and whose gym does not."""

    def keys(self) -> list[str]:
        return ["climb", "gym"]

    def metadata(self, key: str) -> dict[str, t.Any]:
        settings = organisation_settings(key.title())
        if key == "climb":
            settings["RPDE_DATASET_KEYWORDS"] = ["Climbing", "Bouldering"]
        return settings


def test_organisation_keywords_come_from_the_provider_else_the_platform(
    sqlite_engine: Engine, rpde: RPDE, models: t.Any
) -> None:
    general = ["Activities", "Sports", "OpenActive"]
    app = site_app(sqlite_engine, rpde, models, **PLATFORM, RPDE_DATASET_GENERAL_KEYWORDS=general)
    rpde.dataset_provider(KeywordSites())
    climb = get_site(app, "/openactive/organisations/climb/").dataset
    assert climb["keywords"] == ["Climbing", "Bouldering"]
    gym = get_site(app, "/openactive/organisations/gym/").dataset
    assert gym["keywords"] == ["Sessions", "Facilities", "Events", *general]


def test_organisation_site_rdfa_names_the_organisation(organisations: t.Any) -> None:
    app, _ = organisations
    site = get_site(app, "/openactive/organisations/org-3/")
    ds = URIRef(org_url("org-3"))
    assert (ds, RDF.type, DCAT.Dataset) in site.graph
    assert site.text(ds, DCTERMS.title) == "Lighthouse Gym Sessions, Facilities and Events"
    publisher = site.value(ds, DCTERMS.publisher)
    assert site.text(publisher, FOAF.name) == "Lighthouse Gym"
    assert site.value(publisher, FOAF.homepage) == URIRef("https://lighthouse-gym.example.org/")
    assert site.value(publisher, FOAF.mbox) == URIRef("mailto:hello@lighthouse-gym.example.org")
    rights = site.value(ds, DCTERMS.rights)
    assert site.text(rights, ODRS.attributionText) == "Lighthouse Gym"
    assert site.value(rights, ODRS.attributionURL) == ds
    assert str(site.value(ds, DCTERMS.issued)) == "2025-09-15"
    assert len(site.values(ds, DCAT.distribution)) == 3


def test_the_catalogue_lists_every_publishing_organisation(organisations: t.Any) -> None:
    app, _ = organisations
    client = app.test_client()
    response = client.get("/openactive/data-catalog")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    catalog = response.get_json()
    assert catalog == {
        "@context": "https://schema.org/",
        "@type": "DataCatalog",
        "@id": BASE + "/openactive/data-catalog",
        "name": "Harbour Booking Platform Open Data",
        "datePublished": "2024-06-01",
        "publisher": {
            "@type": "Organization",
            "name": "Harbour Booking Platform",
            "legalName": "Harbour Booking Ltd",
            "email": "platform@booking.example.com",
            "url": "https://booking.example.com/",
            "logo": {"@type": "ImageObject", "url": "https://booking.example.com/logo.png"},
        },
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "dataset": [org_url("org-1"), org_url("org-3")],
    }
    # Each listed site answers, and its @id is the listed URL byte for byte.
    for url in catalog["dataset"]:
        site = get_site(app, url.removeprefix(BASE))
        assert site.dataset["@id"] == url
    # The platform's own site points to the catalogue.
    assert get_site(app).tree.xpath(f'//a[@href="{catalog["@id"]}"]')


@pytest.mark.parametrize(
    "path",
    [
        "/openactive/organisations/org-2/",  # opted out
        "/openactive/organisations/org-99/",  # no such row
        "/openactive/organisations/..%2F..%2Fetc/",
        "/openactive/organisations/a%20b/",
        "/openactive/organisations/%00/",
        "/openactive/organisations/" + "x" * 101 + "/",
    ],
)
def test_unknown_or_malformed_organisations_are_404(organisations: t.Any, path: str) -> None:
    app, provider = organisations
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert all(call in ("org-2", "org-99") for call in provider.calls)


def test_organisation_site_without_trailing_slash_redirects(organisations: t.Any) -> None:
    app, _ = organisations
    response = app.test_client().get("/openactive/organisations/org-1")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/openactive/organisations/org-1/")


def test_no_provider_means_no_organisation_sites(
    sqlite_engine: Engine, rpde: RPDE, models: t.Any
) -> None:
    client = site_app(sqlite_engine, rpde, models).test_client()
    assert client.get("/openactive/data-catalog").status_code == 404
    assert client.get("/openactive/organisations/org-1/").status_code == 404


def test_a_database_outage_is_a_503_not_a_500(organisations: t.Any) -> None:
    app, provider = organisations
    provider.broken = True
    client = app.test_client()
    for path in ("/openactive/organisations/org-1/", "/openactive/data-catalog"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"


def test_bad_values_from_a_row_are_left_out_and_logged(
    organisations: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, provider = organisations
    original = provider.metadata

    def metadata(key: str) -> Mapping[str, t.Any] | None:
        found = original(key)
        return found and {
            **found,
            "RPDE_PUBLISHER_NAME": "Quay " + HOSTILE,
            "RPDE_PUBLISHER_URL": "javascript:alert(1)",
            "RPDE_PUBLISHER_EMAIL": "not-an-email",
        }

    provider.metadata = metadata
    with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
        site = get_site(app, "/openactive/organisations/org-1/")
    publisher = site.dataset["publisher"]
    assert publisher["name"] == "Quay " + HOSTILE
    assert "url" not in publisher and "email" not in publisher
    assert "javascript:" not in site.html
    assert site.tree.xpath("//img") == [] and len(site.tree.xpath("//script")) == 1
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "'org-1'" in messages and "RPDE_PUBLISHER_URL" in messages
    assert "RPDE_PUBLISHER_EMAIL" in messages


def test_a_provider_returning_keys_it_cannot_set_is_a_programming_error(
    organisations: t.Any,
) -> None:
    app, provider = organisations
    provider.metadata = lambda key: {"RPDE_LICENSE": "CC0-1.0", "name": "x"}
    with pytest.raises(ConfigurationError, match="RPDE_LICENSE, name"):
        app.test_client().get("/openactive/organisations/org-1/")


def test_a_provider_needs_keys_and_metadata() -> None:
    with pytest.raises(ConfigurationError, match="keys\\(\\) and metadata\\(key\\)"):
        RPDE().dataset_provider(object())  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_openactive_validator_accepts_organisation_sites_and_the_catalogue(
    organisations: t.Any,
) -> None:
    from conformance.check_dataset_site import validate

    app, _ = organisations
    sites = {url: get_site(app, url.removeprefix(BASE)).dataset for url in (org_url("org-1"),)}
    catalog = app.test_client().get("/openactive/data-catalog").get_json()
    for mode, documents in (("DatasetSite", sites), ("DataCatalog", {"catalog": catalog})):
        result = validate(mode, documents)
        assert result["misses"] == []
        for item in result["results"]:
            assert item["failures"] == [], (mode, item["name"], item["failures"])


class _Keys:
    def keys(self) -> list[t.Any]:
        return [7, "bad key", "org-1", "org-1", True, None]

    def metadata(self, key: str) -> Mapping[str, t.Any] | None:
        return {"RPDE_PUBLISHER_NAME": f"Club {key}"}


def test_catalogue_takes_integer_keys_and_leaves_out_malformed_ones(
    sqlite_engine: Engine, rpde: RPDE, models: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = site_app(sqlite_engine, rpde, models, **PLATFORM)
    rpde.dataset_provider(_Keys())
    with caplog.at_level(logging.WARNING, logger="rpde_publisher"):
        catalog = app.test_client().get("/openactive/data-catalog").get_json()
    assert catalog["dataset"] == [org_url("7"), org_url("org-1")]
    assert "'bad key'" in caplog.text and "True" in caplog.text
    assert get_site(app, "/openactive/organisations/7/").dataset["publisher"]["name"] == "Club 7"
