"""The dataset site read by real parsers: every JSON-LD field, the DCAT RDFa, the licence."""

from __future__ import annotations

import json
import re
import typing as t
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import UTC

import pytest
from rdflib import Literal
from rdflib import URIRef
from rdflib.namespace import RDFS
from rdflib.namespace import XSD
from sqlalchemy.engine import Engine

from rpde_publisher import ConfigurationError
from rpde_publisher import RPDE

from .dataset_apps import BASE
from .dataset_apps import FULL_CONFIG
from .dataset_apps import HOSTILE
from .dataset_apps import HOSTILE_CONFIG
from .dataset_apps import site_app
from .extract import DCAT
from .extract import DCTERMS
from .extract import FOAF
from .extract import ODRS
from .extract import RDF
from .extract import read_site
from .extract import SDMX_FREQ_N
from .extract import Site
from .models import Models

SITE = BASE + "/openactive/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
RPDE_MEDIA_TYPE = "application/vnd.openactive.rpde+json; version=1"


@pytest.fixture
def make(sqlite_engine: Engine, rpde: RPDE, models: Models) -> t.Callable[..., t.Any]:
    """Build an app with the standard feeds and the given config."""
    return lambda **config: site_app(sqlite_engine, rpde, models, **config)


def get_site(app: t.Any, path: str = "/openactive/", **kwargs: t.Any) -> Site:
    response = app.test_client().get(path, **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    url = re.search(r'<link rel="canonical" href="([^"]+)">', html)
    assert url is not None
    return read_site(html, url.group(1))


def test_jsonld_carries_every_field_of_a_complete_publisher(make: t.Any) -> None:
    site = get_site(make(**FULL_CONFIG))
    dataset = dict(site.dataset)
    modified = dataset.pop("dateModified")
    assert dataset == {
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset",
        "@id": SITE,
        "url": SITE,
        "name": "Harbour Sports Trust Sessions, Facilities and Events",
        "description": (
            "Near real-time availability and rich descriptions relating to the sessions,"
            " facilities and events available from Harbour Sports Trust"
        ),
        "keywords": ["Sessions", "Facilities", "Events", "Activities", "OpenActive"],
        "license": CC_BY,
        "distribution": [
            {
                "@type": "DataDownload",
                "name": "SessionSeries",
                "additionalType": "https://openactive.io/SessionSeries",
                "contentUrl": BASE + "/openactive/feeds/session-series",
                "encodingFormat": RPDE_MEDIA_TYPE,
                "identifier": "SessionSeries",
            },
            {
                "@type": "DataDownload",
                "name": "FacilityUse",
                "additionalType": "https://openactive.io/FacilityUse",
                "contentUrl": BASE + "/openactive/feeds/facility-uses",
                "encodingFormat": RPDE_MEDIA_TYPE,
                "identifier": "FacilityUse",
            },
            {
                "@type": "DataDownload",
                "name": "Event",
                "additionalType": "https://schema.org/Event",
                "contentUrl": BASE + "/openactive/feeds/events",
                "encodingFormat": RPDE_MEDIA_TYPE,
                "identifier": "Event",
            },
        ],
        "discussionUrl": "https://github.com/harbour-sports/opendata/issues",
        "documentation": "https://harbour-sports.example.org/developers",
        "inLanguage": ["en-GB", "cy"],
        "publisher": {
            "@type": "Organization",
            "name": "Harbour Sports Trust",
            "legalName": "Harbour Sports Trust CIC",
            "description": "Runs three leisure centres by the harbour.",
            "email": "data@harbour-sports.example.org",
            "url": "https://harbour-sports.example.org/",
            "logo": {"@type": "ImageObject", "url": "https://harbour-sports.example.org/logo.png"},
        },
        "datePublished": "2025-03-01T09:30:00+01:00",
        "schemaVersion": "https://openactive.io/modelling-opportunity-data/2.0/",
        "bookingService": {
            "@type": "BookingService",
            "name": "Harbour Booking",
            "url": "https://booking.example.com/",
            "softwareVersion": "4.2.0",
            "hasCredential": "https://certificates.example.com/harbour/",
        },
        "accessService": {
            "@type": "WebAPI",
            "name": "Open Booking API",
            "description": (
                "An API that allows for seamless booking experiences to be created for"
                " sessions and facilities and events available from Harbour Sports Trust"
            ),
            "authenticationAuthority": "https://auth.harbour-sports.example.org",
            "conformsTo": ["https://openactive.io/open-booking-api/EditorsDraft/"],
            "documentation": (
                "https://permalink.openactive.io/dataset-site/open-booking-api-documentation"
            ),
            "endpointDescription": (
                "https://www.openactive.io/open-booking-api/EditorsDraft/swagger.json"
            ),
            "endpointUrl": "https://harbour-sports.example.org/api/openbooking",
            "landingPage": "https://harbour-sports.example.org/partners",
            "termsOfService": "https://harbour-sports.example.org/api-terms",
        },
        "backgroundImage": {
            "@type": "ImageObject",
            "url": "https://harbour-sports.example.org/pool.jpg",
        },
    }
    # Whole seconds with an offset, rendered just now.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", modified)
    assert abs(datetime.fromisoformat(modified) - datetime.now(UTC)) < timedelta(minutes=1)


def test_one_jsonld_block_in_head_and_no_script_that_runs(make: t.Any) -> None:
    site = get_site(make(**FULL_CONFIG))
    assert len(site.tree.xpath('//head/script[@type="application/ld+json"]')) == 1
    assert len(site.tree.xpath("//script")) == 1


def test_head_answers_200_with_html(make: t.Any) -> None:
    client = make(**FULL_CONFIG).test_client()
    response = client.head("/openactive/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_feed_urls_are_the_feed_pages_own_urls(make: t.Any) -> None:
    """Each contentUrl is what the feed itself answers as its last page's ``next``."""
    for config in ({}, {"RPDE_BASE_URL": "https://data.example.org/"}):
        app = make(**config)
        client = app.test_client()
        site = get_site(app, base_url="http://booking.example.net:8080")
        for download in site.dataset["distribution"]:
            url = download["contentUrl"]
            page = client.get(url, base_url="http://booking.example.net:8080").get_json()
            assert page["items"] == [] and page["next"] == url


@pytest.mark.parametrize(
    ("config", "request_base", "expected"),
    [
        (
            {"RPDE_BASE_URL": "https://data.example.org"},
            "http://localhost",
            "https://data.example.org/openactive/",
        ),
        ({}, "http://booking.example.net:8080", "http://booking.example.net:8080/openactive/"),
        ({"RPDE_URL_PREFIX": "/open-data/"}, "http://localhost", "http://localhost/open-data/"),
    ],
)
def test_id_and_url_are_the_canonical_url(
    make: t.Any, config: dict[str, t.Any], request_base: str, expected: str
) -> None:
    app = make(**config)
    path = expected.removeprefix(request_base).removeprefix("https://data.example.org")
    site = get_site(app, path, base_url=request_base)
    assert site.dataset["@id"] == site.dataset["url"] == expected
    assert site.tree.xpath('//link[@rel="canonical"]/@href') == [expected]
    assert (URIRef(expected), RDF.type, DCAT.Dataset) in site.graph


def _empty_values(value: t.Any, path: str = "$") -> list[str]:
    if value is None or value == "" or value == [] or value == {}:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empty_values(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _empty_values(v, f"{path}[{i}]")]
    return []


def test_unset_settings_are_left_out_never_null_or_empty(make: t.Any) -> None:
    site = get_site(make())
    dataset = site.dataset
    assert _empty_values(dataset) == []
    for absent in (
        "publisher",
        "discussionUrl",
        "datePublished",
        "bookingService",
        "accessService",
        "backgroundImage",
    ):
        assert absent not in dataset
    # Derived from the feeds' themes when no publisher is named.
    assert dataset["name"] == "Sessions, Facilities and Events Open Data"
    assert dataset["documentation"] == (
        "https://permalink.openactive.io/dataset-site/open-data-documentation"
    )
    assert dataset["inLanguage"] == ["en-GB"]
    assert (None, DCTERMS.publisher, None) not in site.graph
    assert (None, FOAF.name, None) not in site.graph
    assert (None, ODRS.copyrightHolder, None) not in site.graph
    assert (None, DCTERMS.issued, None) not in site.graph


def test_name_description_and_keywords_can_be_set(make: t.Any) -> None:
    site = get_site(
        make(
            RPDE_PUBLISHER_NAME="Harbour Sports Trust",
            RPDE_DATASET_NAME="Harbour swimming and gym",
            RPDE_DATASET_DESCRIPTION="Every pool and gym session at the harbour.",
            RPDE_DATASET_KEYWORDS="Swimming, Gym, , Swimming",
            RPDE_DATASET_LANGUAGES="en-GB,cy",
        )
    )
    dataset = site.dataset
    assert dataset["name"] == "Harbour swimming and gym"
    assert dataset["description"] == "Every pool and gym session at the harbour."
    assert dataset["keywords"] == ["Swimming", "Gym"]
    assert dataset["inLanguage"] == ["en-GB", "cy"]
    subject = dataset["url"]
    assert site.text(subject, DCTERMS.title) == "Harbour swimming and gym"
    assert {str(k) for k in site.values(subject, DCAT.keyword)} == {"Swimming", "Gym"}


@pytest.mark.parametrize(
    ("general", "expected"),
    [
        (None, ["Sessions", "Facilities", "Events", "Activities", "OpenActive"]),
        (
            ["Activities", "Sports", "Physical Activity", "OpenActive"],
            ["Sessions", "Facilities", "Events", "Activities", "Sports", "Physical Activity"]
            + ["OpenActive"],
        ),
        ("Arts, Events", ["Sessions", "Facilities", "Events", "Arts"]),
        ("", ["Sessions", "Facilities", "Events"]),
    ],
)
def test_general_keywords_follow_the_themes(
    make: t.Any, general: t.Any, expected: list[str]
) -> None:
    config = {} if general is None else {"RPDE_DATASET_GENERAL_KEYWORDS": general}
    site = get_site(make(**config))
    assert site.dataset["keywords"] == expected
    assert {str(k) for k in site.values(site.dataset["url"], DCAT.keyword)} == set(expected)


def test_keywords_are_never_empty(sqlite_engine: Engine, models: Models) -> None:
    """OpenActive's validator requires keywords: with no theme (a kind OpenActive does not
    know) and no keyword set, the site still has one."""
    rpde = RPDE()
    rpde.feed(models.Facility, kind="Widget", schema=models.FacilitySchema)
    app = site_app(sqlite_engine, rpde, models, RPDE_DATASET_GENERAL_KEYWORDS=[])
    assert get_site(app).dataset["keywords"] == ["OpenActive"]


def test_rdfa_gives_the_certificate_every_field_it_reads(make: t.Any) -> None:
    site = get_site(make(**FULL_CONFIG))
    dataset = site.dataset
    ds = URIRef(SITE)
    assert (ds, RDF.type, DCAT.Dataset) in site.graph
    assert site.text(ds, DCTERMS.title) == dataset["name"]
    assert site.text(ds, DCTERMS.description) == dataset["description"]
    assert {str(k) for k in site.values(ds, DCAT.keyword)} == set(dataset["keywords"])
    assert site.value(ds, DCAT.landingPage) == ds
    assert {str(v) for v in site.values(ds, DCTERMS.language)} == {"en-GB", "cy"}
    # The release date under both names the certificate accepts, and when it was modified.
    published = Literal("2025-03-01T09:30:00+01:00", datatype=XSD.dateTime)
    assert site.value(ds, DCTERMS.issued) == site.value(ds, DCTERMS.created) == published
    assert str(site.value(ds, DCTERMS.modified)) == dataset["dateModified"]
    # Update frequency: the DCAT term, and the one the certificate's reader queries.
    assert site.value(ds, DCTERMS.accrualPeriodicity) == SDMX_FREQ_N
    assert "real-time" in site.text(ds, DCAT.accrualPeriodicity)
    # Publisher: name, homepage and email.
    publisher = site.value(ds, DCTERMS.publisher)
    assert publisher == URIRef("https://harbour-sports.example.org/")
    assert (publisher, RDF.type, FOAF.Organization) in site.graph
    assert site.text(publisher, FOAF.name) == "Harbour Sports Trust"
    assert site.value(publisher, FOAF.homepage) == URIRef("https://harbour-sports.example.org/")
    assert site.value(publisher, FOAF.mbox) == URIRef("mailto:data@harbour-sports.example.org")
    # Licence, and the ODRS rights statement.
    assert site.value(ds, DCTERMS.license) == URIRef(CC_BY)
    assert "Creative Commons Attribution 4.0" in site.text(CC_BY, DCTERMS.title)
    rights = site.value(ds, DCTERMS.rights)
    assert rights == URIRef(SITE + "#rights")
    assert (rights, RDF.type, ODRS.RightsStatement) in site.graph
    assert site.value(rights, ODRS.dataLicense) == URIRef(CC_BY)
    assert site.value(rights, ODRS.contentLicense) == URIRef(CC_BY)
    assert site.value(rights, ODRS.attributionURL) == ds
    assert site.text(rights, ODRS.attributionText) == "Harbour Sports Trust"
    assert site.value(rights, ODRS.copyrightHolder) == publisher
    assert site.text(rights, ODRS.copyrightYear) == "2025"
    assert site.text(rights, ODRS.copyrightNotice) == "© 2025 Harbour Sports Trust CIC"
    assert site.text(rights, RDFS.label) == "Rights Statement"
    # Each feed: title, access URL and media type.
    distributions = site.values(ds, DCAT.distribution)
    assert {str(d) for d in distributions} == {d["contentUrl"] for d in dataset["distribution"]}
    for download in dataset["distribution"]:
        feed = URIRef(download["contentUrl"])
        assert (feed, RDF.type, DCAT.Distribution) in site.graph
        assert site.text(feed, DCTERMS.title) == download["name"]
        assert site.value(feed, DCAT.accessURL) == feed
        assert site.text(feed, DCAT.mediaType) == RPDE_MEDIA_TYPE


def test_page_tells_people_the_licence_and_how_to_credit(make: t.Any) -> None:
    site = get_site(make(**FULL_CONFIG))
    text = " ".join(site.tree.text_content().split())
    assert (
        "This data is owned by Harbour Sports Trust CIC and is licensed under the Creative"
        " Commons Attribution 4.0 International (CC BY 4.0) for anyone to access, use and"
        " share, as long as they credit the source."
    ) in text
    assert "Source: Harbour Sports Trust" in text
    assert site.tree.xpath('//a[@rel="dct:license"]/@href') == [CC_BY]
    for download in site.dataset["distribution"]:
        assert site.tree.xpath(f'//a[@href="{download["contentUrl"]}"]')


@pytest.mark.parametrize(
    ("setting", "canonical", "words", "credit"),
    [
        (
            "CC0-1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "Creative Commons Zero 1.0 Universal",
            "No credit is required",
        ),
        (
            "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3",
            "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            "Open Government Licence v3.0",
            "as long as they credit the source",
        ),
        (
            "http://opendatacommons.org/licenses/odbl/1.0/",
            "https://opendatacommons.org/licenses/odbl/1-0/",
            "Open Data Commons Open Database License v1.0",
            "must be shared under the same licence",
        ),
    ],
)
def test_one_licence_setting_drives_feeds_jsonld_rdfa_and_text(
    make: t.Any, setting: str, canonical: str, words: str, credit: str
) -> None:
    app = make(RPDE_LICENSE=setting, RPDE_PUBLISHER_NAME="Harbour Sports Trust")
    assert app.test_client().get("/openactive/feeds/events").get_json()["license"] == canonical
    site = get_site(app)
    assert site.dataset["license"] == canonical
    ds = site.dataset["url"]
    assert site.value(ds, DCTERMS.license) == URIRef(canonical)
    rights = site.value(ds, DCTERMS.rights)
    assert site.value(rights, ODRS.dataLicense) == URIRef(canonical)
    assert site.value(rights, ODRS.contentLicense) == URIRef(canonical)
    text = " ".join(site.tree.text_content().split())
    assert f"licensed under the {words}" in text
    assert credit in text


@pytest.mark.parametrize(
    "licence",
    [
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "https://creativecommons.org/licenses/by-nd/4.0/",
        "All rights reserved",
        "https://example.org/our-licence",
        "",
        None,
    ],
)
def test_a_licence_that_is_not_open_is_refused_at_start_up(
    sqlite_engine: Engine, rpde: RPDE, models: Models, licence: t.Any
) -> None:
    with pytest.raises(ConfigurationError, match="RPDE_LICENSE must be the URL of an open licence"):
        site_app(sqlite_engine, rpde, models, RPDE_LICENSE=licence)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("RPDE_PUBLISHER_URL", "javascript:alert(1)", "RPDE_PUBLISHER_URL must be an absolute"),
        ("RPDE_PUBLISHER_LOGO", "/static/logo.png", "RPDE_PUBLISHER_LOGO must be an absolute"),
        ("RPDE_PUBLISHER_EMAIL", "not an email", "RPDE_PUBLISHER_EMAIL must be an email"),
        ("RPDE_PUBLISHER_NAME", 42, "RPDE_PUBLISHER_NAME must be a string"),
        ("RPDE_DATE_PUBLISHED", "last spring", "RPDE_DATE_PUBLISHED must be a date"),
        ("RPDE_DATASET_LANGUAGES", ["en GB"], "IETF BCP 47"),
        ("RPDE_DATASET_KEYWORDS", {"a": 1}, "RPDE_DATASET_KEYWORDS must be a list"),
        (
            "RPDE_DATASET_GENERAL_KEYWORDS",
            [1, 2],
            "RPDE_DATASET_GENERAL_KEYWORDS must be a list",
        ),
        (
            "RPDE_OPEN_BOOKING_API_BASE_URL",
            "https://example.org/api",
            "RPDE_OPEN_BOOKING_API_REGISTRATION_URL is required",
        ),
    ],
)
def test_bad_dataset_settings_are_refused_at_start_up(
    sqlite_engine: Engine, rpde: RPDE, models: Models, key: str, value: t.Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        site_app(sqlite_engine, rpde, models, **{key: value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 2, 29), "2024-02-29"),
        ("2024-02-29", "2024-02-29"),
        (datetime(2024, 2, 29, 8, 15, 30, 123456), "2024-02-29T08:15:30+00:00"),
        ("2024-02-29T08:15:30.5-05:00", "2024-02-29T08:15:30-05:00"),
    ],
)
def test_date_published_is_a_date_or_whole_seconds_with_an_offset(
    make: t.Any, value: t.Any, expected: str
) -> None:
    site = get_site(make(RPDE_DATE_PUBLISHED=value))
    assert site.dataset["datePublished"] == expected
    assert str(site.value(site.dataset["url"], DCTERMS.issued)) == expected


def test_identifiers_stay_unique_when_feeds_share_a_type(
    sqlite_engine: Engine, models: Models
) -> None:
    rpde = RPDE()
    rpde.feed(models.Series, kind="SessionSeries", schema=models.SeriesSchema)
    rpde.feed(models.Facility, kind="SessionSeries", schema=models.FacilitySchema, name="classes")
    rpde.feed(models.Change, kind="Widget", schema=models.ChangeSchema, ordering="change_number")
    site = get_site(site_app(sqlite_engine, rpde, models))
    downloads = site.dataset["distribution"]
    assert [d["identifier"] for d in downloads] == ["session-series", "classes", "widget"]
    # A kind OpenActive does not know has no type URL (the checklist reports it).
    assert downloads[2]["name"] == "Widget" and "additionalType" not in downloads[2]


def test_hostile_publisher_text_cannot_inject_html_or_leave_the_script(make: t.Any) -> None:
    site = get_site(make(**HOSTILE_CONFIG))
    # Nothing became markup: one script (the JSON-LD), no image, no event handler.
    assert len(site.tree.xpath("//script")) == 1
    assert site.tree.xpath("//img") == []
    assert site.tree.xpath("//@*[starts-with(name(), 'on')]") == []
    assert "<img" not in site.html and "</script><script>" not in site.html
    # The JSON-LD holds the text exactly as given: escaped for HTML, not altered.
    dataset = site.dataset
    assert dataset["publisher"]["name"] == "Evil " + HOSTILE
    assert dataset["publisher"]["legalName"] == "Evil Ltd " + HOSTILE
    assert dataset["publisher"]["description"] == HOSTILE
    assert dataset["description"] == "Data " + HOSTILE
    assert dataset["keywords"] == ["Swimming", HOSTILE]
    assert dataset["bookingService"]["name"] == HOSTILE
    script = site.tree.xpath("//script")[0].text
    assert json.loads(script) == dataset and "<" not in script and ">" not in script
    # The page shows it as text, and the RDFa carries it as literals.
    assert (
        site.tree.xpath("//h1")[0].text_content()
        == "Evil " + HOSTILE + " Sessions, Facilities and Events"
    )
    meta = site.tree.xpath('//meta[@name="description"]/@content')
    assert meta == ["Data " + HOSTILE]
    ds = dataset["url"]
    assert site.text(ds, DCTERMS.description) == "Data " + HOSTILE
    publisher = site.value(ds, DCTERMS.publisher)
    assert site.text(publisher, FOAF.name) == "Evil " + HOSTILE


def test_every_dataset_setting_has_a_default_a_field_and_documentation() -> None:
    from dataclasses import fields
    from pathlib import Path

    from rpde_publisher.dataset.settings import config_key
    from rpde_publisher.dataset.settings import DATASET_DEFAULTS
    from rpde_publisher.dataset.settings import DatasetSettings

    keys = {config_key(f.name) for f in fields(DatasetSettings)}
    assert keys == set(DATASET_DEFAULTS)
    documented = set(
        re.findall(
            r"^\.\. data:: (RPDE_\w+)$",
            (Path(__file__).parent.parent / "docs" / "config.rst").read_text(),
            re.M,
        )
    )
    assert keys <= documented


def test_the_page_is_cached_with_a_strong_etag_and_gzip(make: t.Any) -> None:
    import gzip

    app = make(**FULL_CONFIG, CACHE_TYPE="SimpleCache")
    client = app.test_client()
    first = client.get("/openactive/")
    assert first.headers["Cache-Control"] == "public, max-age=900"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get("/openactive/")
    assert again.data == first.data and again.headers["ETag"] == etag, "rendered once"
    assert client.get("/openactive/", headers={"If-None-Match": etag}).status_code == 304
    zipped = client.get("/openactive/", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["ETag"] != etag and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == first.data
    assert client.head("/openactive/").status_code == 200
