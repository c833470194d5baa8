"""Per-organisation feeds: each organisation's rows of a feed, at its own URL, by RPDE's rules."""

from __future__ import annotations

import gzip
import shutil
import typing as t
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rpde_publisher import ConfigurationError
from rpde_publisher import query
from rpde_publisher import RPDE
from rpde_publisher.errors import OrganisationMoveError
from rpde_publisher.ownership import KEY_PARAMETER

from .dataset_apps import organisation_settings
from .live import serve
from .models import make_app
from .models import Models
from .test_dataset_site import get_site
from .walking import path_of
from .walking import settle
from .walking import Walk
from .walking import walk

ORIGIN = "http://localhost"
PREFIX = "/openactive"
#: Feeds published per organisation in these tests (facility-uses is not).
PER_ORGANISATION = ["session-series", "scheduled-sessions", "events"]
#: Organisations 1 and 2 publish open data; 3 opted out.
ORGANISATIONS = {1: "Quay Swimming Club", 2: "Dockside Climbing", 3: "Lighthouse Gym"}


class OrganisationSites:
    """A dataset provider as a booking system writes it, on the app's session."""

    def __init__(self, models: Models, session: t.Any) -> None:
        self.models = models
        self.session = session
        self.calls: list[str] = []
        self.broken = False

    def keys(self) -> Iterator[str]:
        Organisation = self.models.Organisation
        query = select(Organisation.id).where(Organisation.publishes_open_data.is_(True))
        return (str(id_) for id_ in self.session().scalars(query.order_by(Organisation.id)))

    def metadata(self, key: str) -> Mapping[str, t.Any] | None:
        organisation = self._row(key)
        if organisation is None or not organisation.publishes_open_data:
            return None
        return organisation_settings(organisation.name)

    def has_feeds(self, key: str) -> bool:
        return self._row(key) is not None

    def _row(self, key: str) -> t.Any:
        self.calls.append(key)
        if self.broken:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        if not key.isdigit():
            return None
        return self.session().get(self.models.Organisation, int(key))


def register_organisation_feeds(rpde: RPDE, models: Models) -> None:
    """Series name their organisation; occurrences reach it through their series; changes
    carry it as a name prefix (a string key, on the change-number feed); facilities are
    published only as a whole."""
    Series, Organisation, Occurrence, Change = (
        models.Series,
        models.Organisation,
        models.Occurrence,
        models.Change,
    )
    publishing = select(Organisation.id).where(Organisation.publishes_open_data.is_(True))
    rpde.feed(
        Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        embeds=["place", "offers", "organisation"],
        publish_when=lambda: Series.organisation_id.in_(publishing),
        organisation=Series.organisation_id,
    )
    rpde.feed(
        Occurrence,
        kind="ScheduledSession",
        schema=models.OccurrenceSchema,
        embeds=["series.organisation"],
        publish_when=lambda: Occurrence.series_id.in_(
            select(Series.id).where(Series.organisation_id.in_(publishing))
        ),
        organisation=lambda key: Occurrence.series_id.in_(
            select(Series.id).where(Series.organisation_id == key)
        ),
    )
    rpde.feed(models.Facility, kind="FacilityUse", schema=models.FacilitySchema)
    rpde.feed(
        Change,
        kind="Event",
        schema=models.ChangeSchema,
        ordering="change_number",
        organisation=lambda key: Change.name.startswith(key + "/"),
    )


@dataclass
class OrgApp:
    app: Flask
    engine: Engine
    models: Models
    provider: OrganisationSites
    rpde: RPDE

    @property
    def client(self) -> t.Any:
        return self.app.test_client()

    def session(self) -> Session:
        return t.cast(Session, self.app.extensions["test_session"]())

    def rows(self, model: t.Any) -> list[t.Any]:
        with self.app.app_context():
            return list(self.session().scalars(select(model).order_by(model.id)))

    def commit(self, change: t.Callable[[Session], None]) -> None:
        with self.app.app_context():
            session = self.session()
            change(session)
            session.commit()
        settle(self.engine)


def org_url(key: t.Any, feed: str) -> str:
    return f"{ORIGIN}{PREFIX}/organisations/{key}/feeds/{feed}"


def build(engine: Engine, **config: t.Any) -> OrgApp:
    """Fresh tables with three organisations, 9 series (and one without an organisation),
    two occurrences per series, facilities, and changes named after organisations."""
    from .models import make_models

    models = make_models()
    rpde = RPDE()
    register_organisation_feeds(rpde, models)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    config.setdefault("RPDE_PAGE_SIZE", 3)
    app = make_app(engine, rpde, **config)
    provider = OrganisationSites(models, app.extensions["test_session"])
    rpde.dataset_provider(provider)
    result = OrgApp(app, engine, models, provider, rpde)

    def seed(session: Session) -> None:
        session.add_all(
            models.Organisation(id=id_, name=name, publishes_open_data=id_ != 3)
            for id_, name in ORGANISATIONS.items()
        )
        session.flush()
        for number in range(1, 11):
            organisation = None if number == 10 else (number - 1) % 3 + 1
            session.add(
                models.Series(id=number, name=f"Series {number}", organisation_id=organisation)
            )
        session.flush()
        for number in range(1, 21):
            session.add(
                models.Occurrence(
                    id=number, series_id=(number - 1) // 2 + 1, starts=_starts(number)
                )
            )
        session.add_all(models.Facility(id=f"hall {n}", name=f"Hall {n}") for n in range(4))
        session.add_all(models.Change(id=n, name=f"{n % 3 + 1}/change {n}") for n in range(1, 8))

    result.commit(seed)
    return result


def _starts(number: int) -> t.Any:
    from datetime import datetime
    from datetime import UTC

    return datetime(2026, 5, 1 + number % 20, 9, tzinfo=UTC)


@pytest.fixture
def orgs(db_engine: Engine) -> Iterator[OrgApp]:
    built = build(db_engine)
    yield built
    built.models.Base.metadata.drop_all(db_engine)


@pytest.fixture
def sqlite_orgs(sqlite_engine: Engine) -> OrgApp:
    return build(sqlite_engine)


def organisation_of(orgs: OrgApp, feed: str) -> dict[t.Any, int | None]:
    """Each item id of ``feed`` and the organisation the database says it belongs to."""
    models = orgs.models
    series = {row.id: row.organisation_id for row in orgs.rows(models.Series)}
    if feed == "session-series":
        return series
    if feed == "scheduled-sessions":
        return {row.id: series[row.series_id] for row in orgs.rows(models.Occurrence)}
    return {row.id: int(row.name.split("/")[0]) for row in orgs.rows(models.Change)}


def assert_each_once(result: Walk) -> list[t.Any]:
    ids = [item["id"] for item in result.items]
    assert len(ids) == len(set(ids)), f"an item appeared twice: {ids}"
    return ids


# Walking ------------------------------------------------------------------------------


def test_each_organisations_feed_holds_exactly_its_items(orgs: OrgApp) -> None:
    client = orgs.client
    for feed in PER_ORGANISATION:
        owners = organisation_of(orgs, feed)
        whole = walk(client, f"{ORIGIN}{PREFIX}/feeds/{feed}")
        seen: list[t.Any] = []
        for key in ORGANISATIONS:
            result = walk(client, org_url(key, feed))
            ids = assert_each_once(result)
            assert sorted(ids) == sorted(id_ for id_, owner in owners.items() if owner == key)
            # Exactly the feed restricted to the organisation: same items, same order,
            # same modified and data (or tombstones).
            assert result.items == [item for item in whole.items if item["id"] in set(ids)]
            # Paging stays on the organisation's URL; the last page points at itself.
            assert len(result.pages) >= 2
            assert all(url.startswith(org_url(key, feed)) for url in result.urls)
            assert result.last_url.startswith(org_url(key, feed) + "?")
            if key == 3 and feed != "events":  # opted out: tombstones in its own feed
                assert result.copy == {}
                assert {item["state"] for item in result.items} == {"deleted"}
            else:
                assert len(result.copy) == len(ids)
            seen += ids
        # Rows without an organisation are only in the feed itself.
        assert sorted(seen) == sorted(id_ for id_, owner in owners.items() if owner is not None)


def test_an_opt_out_reaches_the_organisations_own_feed_as_tombstones(orgs: OrgApp) -> None:
    client = orgs.client
    first = {key: walk(client, org_url(key, "session-series")) for key in (1, 2)}
    assert len(first[1].copy) == 3 and len(first[2].copy) == 3

    def opt_out(session: Session) -> None:
        session.get(orgs.models.Organisation, 1).publishes_open_data = False

    orgs.commit(opt_out)
    after = walk(client, first[1].last_url, copy=first[1].copy)
    assert {item["state"] for item in after.items} == {"deleted"}
    assert first[1].copy == {}, "the consumer of organisation 1 dropped every item"
    # The other organisation's consumer sees nothing new; the site is gone, the feed is not.
    assert walk(client, first[2].last_url).items == []
    assert client.get(f"{PREFIX}/organisations/1/").status_code == 404
    assert org_url(1, "session-series") not in client.get(f"{PREFIX}/data-catalog").text

    def opt_in(session: Session) -> None:
        session.get(orgs.models.Organisation, 1).publishes_open_data = True

    orgs.commit(opt_in)
    walk(client, after.last_url, copy=first[1].copy)
    assert sorted(first[1].copy) == [1, 4, 7]


# Moving rows between organisations ------------------------------------------------------


def test_moving_a_row_to_another_organisation_is_refused_and_changes_nothing(
    orgs: OrgApp,
) -> None:
    models = orgs.models
    before = walk(orgs.client, org_url(1, "session-series"))

    def by_column(session: Session) -> None:
        session.get(models.Series, 1).organisation_id = 2

    def by_relationship(session: Session) -> None:
        session.get(models.Series, 1).organisation = session.get(models.Organisation, 2)

    def to_none(session: Session) -> None:
        session.get(models.Series, 1).organisation_id = None

    def reviving_under_another(session: Session) -> None:
        session.delete(session.get(models.Series, 4))
        session.flush()
        session.add(models.Series(id=4, name="Series 4 again", organisation_id=2))

    for change in (by_column, by_relationship, to_none, reviving_under_another):
        with orgs.app.app_context():
            session = orgs.session()
            change(session)
            with pytest.raises(OrganisationMoveError, match="belongs to organisation 1"):
                session.commit()
            session.rollback()
    assert {row.id: row.organisation_id for row in orgs.rows(models.Series)}[1] == 1
    assert [row.deleted for row in orgs.rows(models.Series)][3] is None
    settle(orgs.engine)
    assert walk(orgs.client, before.last_url).items == []


def test_a_row_may_join_its_first_organisation(sqlite_orgs: OrgApp) -> None:
    models = sqlite_orgs.models
    before = walk(sqlite_orgs.client, org_url(2, "session-series"))

    def join(session: Session) -> None:
        session.get(models.Series, 10).organisation_id = 2
        session.get(models.Series, 2).name = "Renamed"  # an ordinary change still works

    sqlite_orgs.commit(join)
    after = walk(sqlite_orgs.client, before.last_url, copy=before.copy)
    assert sorted(item["id"] for item in after.items) == [2, 10]
    assert before.copy[2]["name"] == "Renamed"


def test_an_item_moves_between_organisations_as_a_tombstone_and_a_new_item(
    sqlite_orgs: OrgApp,
) -> None:
    """The supported way: delete it (its tombstone goes to the first organisation's
    consumers) and add a new row under the other organisation."""
    models, client = sqlite_orgs.models, sqlite_orgs.client
    quay = walk(client, org_url(1, "session-series"))
    dockside = walk(client, org_url(2, "session-series"))
    assert 4 in quay.copy

    def move(session: Session) -> None:
        session.delete(session.get(models.Series, 4))
        session.add(models.Series(id=11, name="Series 4", organisation_id=2))

    sqlite_orgs.commit(move)
    walk(client, quay.last_url, copy=quay.copy)
    walk(client, dockside.last_url, copy=dockside.copy)
    assert sorted(quay.copy) == [1, 7]
    assert sorted(dockside.copy) == [2, 5, 8, 11]
    assert dockside.copy[11]["name"] == "Series 4"


# Answers other than a page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/organisations/99/feeds/session-series", "unknown_organisation"),  # no such row
        ("/organisations/abc/feeds/session-series", "unknown_organisation"),  # not an integer
        ("/organisations/01/feeds/session-series", "unknown_organisation"),  # not canonical
        ("/organisations/" + "9" * 40 + "/feeds/session-series", "unknown_organisation"),
        ("/organisations/a%20b/feeds/session-series", "unknown_organisation"),
        ("/organisations/" + "x" * 101 + "/feeds/events", "unknown_organisation"),
        ("/organisations/abc/feeds/events", "unknown_organisation"),  # a string key, no row
        ("/organisations/1/feeds/facility-uses", "unknown_feed"),  # not per organisation
        ("/organisations/1/feeds/nope", "unknown_feed"),
    ],
)
def test_unknown_organisations_and_feeds_are_json_404s(
    sqlite_orgs: OrgApp, path: str, error: str
) -> None:
    response = sqlite_orgs.client.get(PREFIX + path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["error"] == error
    if "facility-uses" in path:
        assert response.get_json()["feeds"] == sorted(PER_ORGANISATION)


def test_without_a_provider_no_organisation_has_feeds(sqlite_engine: Engine) -> None:
    from .models import make_models

    models = make_models()
    rpde = RPDE()
    register_organisation_feeds(rpde, models)
    models.Base.metadata.create_all(sqlite_engine)
    response = (
        make_app(sqlite_engine, rpde)
        .test_client()
        .get(f"{PREFIX}/organisations/1/feeds/session-series")
    )
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_organisation"


def test_a_bad_cursor_is_a_400_and_an_outage_a_503(sqlite_orgs: OrgApp) -> None:
    client = sqlite_orgs.client
    bad = client.get(f"{PREFIX}/organisations/1/feeds/session-series?afterTimestamp=x&afterId=1")
    assert bad.status_code == 400
    assert bad.get_json()["parameter"] == "afterTimestamp"
    wrong = client.get(f"{PREFIX}/organisations/1/feeds/events?afterTimestamp=1&afterId=1")
    assert wrong.status_code == 400
    sqlite_orgs.provider.broken = True
    down = client.get(f"{PREFIX}/organisations/1/feeds/session-series")
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "60"
    assert down.get_json()["error"] == "unavailable"


# Caching and statements ---------------------------------------------------------------


def test_pages_are_cached_per_organisation_with_etags_and_gzip(sqlite_engine: Engine) -> None:
    orgs = build(sqlite_engine, CACHE_TYPE="SimpleCache", RPDE_PAGE_SIZE=20)

    def long_names(session: Session) -> None:  # enough text to be worth compressing
        for number in range(11, 21):
            session.add(orgs.models.Series(id=number, name="x" * 100, organisation_id=1))

    orgs.commit(long_names)
    client = orgs.client
    path = f"{PREFIX}/organisations/1/feeds/session-series"
    first = client.get(path)
    calls = len(orgs.provider.calls)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert len(orgs.provider.calls) == calls, "a cached page does not ask the provider"
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    other = client.get(f"{PREFIX}/organisations/2/feeds/session-series")
    whole = client.get(f"{PREFIX}/feeds/session-series")
    ids = [[item["id"] for item in r.get_json()["items"]] for r in (first, other, whole)]
    assert ids == [[1, 4, 7, *range(11, 21)], [2, 5, 8], list(range(1, 21))]


def test_every_organisation_shares_the_feeds_statements(sqlite_orgs: OrgApp) -> None:
    feed = sqlite_orgs.rpde.feeds.get("session-series")
    assert feed is not None
    for key in ORGANISATIONS:
        walk(sqlite_orgs.client, org_url(key, "session-series"))
    walk(sqlite_orgs.client, f"{ORIGIN}{PREFIX}/feeds/session-series")
    built = query._statements[feed]
    per_organisation = [shape for shape in built if shape[-1]]
    # The first page and the pages after a cursor: two statements for three organisations.
    assert sorted(shape[1] for shape in per_organisation) == ["row_value", "start"]
    statement = built[per_organisation[0]]
    assert f":{KEY_PARAMETER}" in str(statement), "the key is a bound parameter"


# The organisation's dataset site ----------------------------------------------------------


def test_an_organisations_site_lists_its_own_feeds(sqlite_orgs: OrgApp) -> None:
    app, client = sqlite_orgs.app, sqlite_orgs.client
    site = get_site(app, f"{PREFIX}/organisations/2/").dataset
    urls = {d["identifier"]: d["contentUrl"] for d in site["distribution"]}
    assert urls == {
        "SessionSeries": org_url(2, "session-series"),
        "ScheduledSession": org_url(2, "scheduled-sessions"),
        "FacilityUse": f"{ORIGIN}{PREFIX}/feeds/facility-uses",
        "Event": org_url(2, "events"),
    }
    # Each URL is the one its feed builds for itself.
    for url in urls.values():
        assert client.get(path_of(url)).get_json()["next"].startswith(url + "?")
    # The platform's site and the catalogue are as before.
    platform = get_site(app).dataset
    assert {d["contentUrl"] for d in platform["distribution"]} == {
        f"{ORIGIN}{PREFIX}/feeds/{name}" for name in [*PER_ORGANISATION, "facility-uses"]
    }
    catalog = client.get(f"{PREFIX}/data-catalog").get_json()
    assert catalog["dataset"] == [
        f"{ORIGIN}{PREFIX}/organisations/1/",
        f"{ORIGIN}{PREFIX}/organisations/2/",
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_openactive_validator_accepts_a_site_with_organisation_feeds(
    sqlite_engine: Engine,
) -> None:
    from conformance.check_dataset_site import validate

    from .test_dataset_organisations import PLATFORM

    orgs = build(sqlite_engine, **PLATFORM)
    site = get_site(orgs.app, f"{PREFIX}/organisations/1/").dataset
    assert site["distribution"][0]["contentUrl"].endswith("/organisations/1/feeds/session-series")
    result = validate("DatasetSite", {"organisation 1": site})
    assert result["misses"] == []
    for item in result["results"]:
        assert item["failures"] == [], item["failures"]


def test_flask_rpde_validate_passes_an_organisation_feed_over_http(sqlite_orgs: OrgApp) -> None:
    runner = sqlite_orgs.app.test_cli_runner()
    with serve(sqlite_orgs.app) as base:
        for feed in ("scheduled-sessions", "events"):
            url = f"{base}{PREFIX}/organisations/1/feeds/{feed}"
            result = runner.invoke(args=["rpde", "validate", url, "--no-progress"])
            assert result.exit_code == 0, result.output
            assert "FAILED" not in result.output


# Declaring the rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organisation", "message"),
    [
        (42, "must be a column of 'series'"),
        ("no_such_column", "has no column 'no_such_column'"),
        (lambda models: models.Organisation.id, "not a column of the feed's table 'series'"),
        (lambda models: models.Series.organisation, "must be a column of 'series'"),
    ],
)
def test_a_bad_organisation_argument_is_a_configuration_error(
    models: Models, organisation: t.Any, message: str
) -> None:
    if callable(organisation):
        organisation = organisation(models)
    rpde = RPDE()
    with pytest.raises(ConfigurationError, match=message):
        rpde.feed(
            models.Series,
            kind="SessionSeries",
            schema=models.SeriesSchema,
            organisation=organisation,
        )
    assert len(rpde.feeds) == 0


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda models: lambda key: models.Series.name == "x", "does not use its key"),
        (lambda models: lambda key: models.Series.organisation_id == int(key), "bound parameter"),
        (lambda models: lambda key: True, "must return a SQL criterion"),
        (
            lambda models: (
                lambda key: (models.Series.organisation_id == key) & (models.Series.name == key)
            ),
            "different types",
        ),
    ],
)
def test_a_bad_organisation_function_fails_clearly_when_first_used(
    models: Models, rule: t.Any, message: str
) -> None:
    feed = RPDE().feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        organisation=rule(models),
    )
    assert feed.organisation is not None
    with pytest.raises(ConfigurationError, match=message):
        feed.organisation.criterion()


def test_keys_are_taken_in_the_type_the_rule_compares(models: Models) -> None:
    rpde = RPDE()
    by_id = rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        organisation="organisation_id",
    ).organisation
    by_name = rpde.feed(
        models.Change,
        kind="Event",
        schema=models.ChangeSchema,
        organisation=lambda key: models.Change.name == key,
    ).organisation
    assert by_id is not None and by_name is not None
    assert [by_id.key_value(k) for k in ("7", "07", "7.0", "x", "1" + "0" * 19)] == [
        7,
        None,
        None,
        None,
        None,
    ]
    assert by_name.key_value("07") == "07"
