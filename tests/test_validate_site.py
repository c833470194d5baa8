"""``validate --dataset-site``: would a dataset site pass OpenActive's registration?

The example app and each of its organisation sites pass; a site missing a required
property, holding an orphan, holding nothing, or whose opportunities have no offers,
fails, naming the reason.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
import typing as t
from datetime import datetime
from datetime import UTC
from pathlib import Path

import pytest
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.validate import dataset_jsonld
from rpde_publisher.validate import site as site_module
from rpde_publisher.validate.dataset_jsonld import check_dataset_jsonld
from rpde_publisher.validate.dataset_jsonld import REQUIRED

from .dataset_apps import BASE
from .dataset_apps import FULL_CONFIG
from .dataset_apps import site_app
from .live import serve
from .models import make_models
from .models import Models
from .walking import settle

ROOT = Path(__file__).resolve().parent.parent
SITE = f"{BASE}/openactive/"
FAST = ["--no-progress", "--retries", "2", "--retry-wait", "0"]
ITEMS = "https://club.example.org"


OPENACTIVE = ["https://openactive.io/"]
OFFERS = [{"@type": "Offer", "price": 5, "priceCurrency": "GBP"}]


class SeriesData(Schema):
    context = fields.Constant(OPENACTIVE, data_key="@context")
    type = fields.Constant("SessionSeries", data_key="@type")
    id = fields.Function(lambda s: f"{ITEMS}/series/{s.id}", data_key="@id")
    name = fields.String()
    offers = fields.Constant(OFFERS)


class SessionData(Schema):
    context = fields.Constant(OPENACTIVE, data_key="@context")
    type = fields.Constant("ScheduledSession", data_key="@type")
    id = fields.Function(lambda o: f"{ITEMS}/sessions/{o.id}", data_key="@id")
    super_event = fields.Function(lambda o: f"{ITEMS}/series/{o.series_id}", data_key="superEvent")
    start_date = fields.DateTime(attribute="starts", data_key="startDate")


def club_feeds(models: Models, *, follow: bool = True, offers: bool = True) -> RPDE:
    """Series, and their sessions (following their series out when ``follow``)."""
    rpde = RPDE()
    series = SeriesData() if offers else SeriesData(exclude=("offers",))
    rpde.feed(models.Series, kind="SessionSeries", schema=series)
    rpde.feed(
        models.Occurrence,
        kind="ScheduledSession",
        schema=SessionData(),
        **({"parent": "series"} if follow else {"embeds": ["series"]}),
    )
    return rpde


def timetable(engine: Engine, models: Models, series: int = 2, sessions: int = 3) -> None:
    with Session(engine) as session:
        for n in range(series):
            row = models.Series(name=f"Series {n}")
            session.add(row)
            for day in range(sessions):
                session.add(
                    models.Occurrence(series=row, starts=datetime(2030, 1, day + 1, tzinfo=UTC))
                )
        session.commit()
    settle(engine)


def run(app: t.Any, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["rpde", "validate", "--dataset-site", *args, *FAST])


def test_a_complete_site_would_pass(sqlite_engine: Engine, models: Models) -> None:
    app = site_app(sqlite_engine, club_feeds(models), models, **FULL_CONFIG)
    timetable(sqlite_engine, models)
    result = run(app)
    assert result.exit_code == 0, result.output
    assert f"Dataset site {SITE}" in result.output
    assert "8 live item(s); 8 opportunities; 6 reference a parent, 0 of them orphans" in (
        result.output
    )
    assert "would pass the checks OpenActive's registration makes that can be made here" in (
        result.output
    )
    assert "item-data: not run" in result.output, "the missing item checks are said, not hidden"
    report = json.loads(run(app, "--json").output)[0]
    assert report["ok"] and report["opportunities"]["orphans"] == 0
    assert set(report["feeds"]) == {"SessionSeries", "ScheduledSession"}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("RPDE_PUBLISHER_LOGO", None, "`logo` is missing from `Organization`"),
        ("RPDE_PUBLISHER_LEGAL_NAME", None, "`legalName` is missing from `Organization`"),
        ("RPDE_PUBLISHER_URL", None, "`url` is missing from `Organization`"),
        ("RPDE_PUBLISHER_NAME", None, "`name` is missing from `Organization`"),
        ("RPDE_DISCUSSION_URL", None, "`discussionUrl` is missing from `Dataset`"),
        ("RPDE_DOCUMENTATION_URL", None, "`documentation` is missing from `Dataset`"),
        ("RPDE_DATASET_LANGUAGES", [], "`inLanguage` is missing from `Dataset`"),
    ],
)
def test_a_site_missing_a_required_property_fails_naming_it_and_its_setting(
    sqlite_engine: Engine, models: Models, setting: str, value: t.Any, message: str
) -> None:
    app = site_app(sqlite_engine, club_feeds(models), models, **{**FULL_CONFIG, setting: value})
    timetable(sqlite_engine, models)
    result = run(app)
    assert result.exit_code == 1, result.output
    assert "FAILED  site-required" in result.output
    assert f"Required property {message}" in result.output
    assert f"Set {setting}" in result.output
    assert "would FAIL" in result.output


def _good_jsonld(engine: Engine, models: Models) -> dict[str, t.Any]:
    app = site_app(engine, club_feeds(models), models, **FULL_CONFIG)
    from rpde_publisher.dataset.reader import fetch_site

    page = fetch_site(app.test_client(), "/openactive/")
    assert page.error is None
    return t.cast(dict[str, t.Any], page.jsonld)


_PLACES: dict[str, list[str]] = {
    "Dataset": [""],
    "Organization": ["publisher"],
    "DataDownload": ["distribution.0"],
    "ImageObject": ["publisher.logo", "backgroundImage"],
    "WebAPI": ["accessService"],
}
_EVERY_REQUIRED = [
    (model, place, key)
    for model, keys in REQUIRED.items()
    for place in _PLACES[model]
    for key in keys
]


@pytest.mark.parametrize(("model", "place", "key"), _EVERY_REQUIRED)
def test_every_required_property_is_checked(
    sqlite_engine: Engine, models: Models, model: str, place: str, key: str
) -> None:
    jsonld = _good_jsonld(sqlite_engine, models)
    assert check_dataset_jsonld(jsonld, SITE) == []
    broken = copy.deepcopy(jsonld)
    node = broken
    for step in filter(None, place.split(".")):
        node = node[int(step)] if step.isdigit() else node[step]
    del node[key]
    findings = check_dataset_jsonld(broken, SITE)
    assert any(
        f.rule == "site-required" and f"`{key}` is missing from `{model}`" in f.message
        for f in findings
    ), findings


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"license": "https://creativecommons.org/publicdomain/zero/1.0/"}, "site-values"),
        ({"@context": "https://openactive.io/"}, "site-context"),
        ({"@id": SITE + "index.html"}, "site-id"),
        ({"dateModified": "2026-01-05T09:00:00.123456+00:00"}, "site-values"),
        ({"discussionUrl": "https://github.com/club/opendata"}, "site-discussion"),
        ({"discussionUrl": "https://forum.example.org/opendata"}, "site-discussion"),
        ({"documentation": ""}, "site-empty"),
        ({"keywords": []}, "site-empty"),
        ({"url": "not a url"}, "site-values"),
        ({"backgroundImage": None}, "site-empty"),
    ],
)
def test_wrong_values_are_caught(
    sqlite_engine: Engine, models: Models, change: dict[str, t.Any], rule: str
) -> None:
    jsonld = {**_good_jsonld(sqlite_engine, models), **change}
    rules = {f.rule for f in check_dataset_jsonld(jsonld, SITE)}
    assert rule in rules


def test_an_orphan_fails_and_a_child_following_its_parent_passes(
    sqlite_engine: Engine, models: Models
) -> None:
    for follow in (False, True):
        app = site_app(sqlite_engine, club_feeds(models, follow=follow), models, **FULL_CONFIG)
        timetable(sqlite_engine, models)
        with Session(sqlite_engine) as session:
            gone = session.scalars(select(models.Series).order_by(models.Series.id)).first()
            orphans = set(
                session.scalars(
                    select(models.Occurrence.id).where(models.Occurrence.series_id == gone.id)
                )
            )
            session.delete(gone)
            session.commit()
        settle(sqlite_engine)
        result = run(app)
        if follow:
            assert result.exit_code == 0, result.output
            assert "4 live item(s); 4 opportunities; 3 reference a parent, 0 of them orphans" in (
                result.output
            )
        else:
            assert result.exit_code == 1, result.output
            assert "FAILED  orphans" in result.output
            assert "3 of 6 opportunities that reference a parent do not have a matching" in (
                result.output
            )
            for orphan in orphans:
                assert f"'{ITEMS}/sessions/{orphan}'" in result.output
            assert "parent=" in result.output, "the message names the fix"
        models = make_models()  # each app registers its feeds on models of its own


def test_an_empty_site_fails(sqlite_engine: Engine, models: Models) -> None:
    app = site_app(sqlite_engine, club_feeds(models), models, **FULL_CONFIG)
    result = run(app)
    assert result.exit_code == 1, result.output
    assert "FAILED  opportunities" in result.output
    assert "Zero opportunities could be harvested" in result.output


def test_opportunities_without_offers_fail(sqlite_engine: Engine, models: Models) -> None:
    app = site_app(sqlite_engine, club_feeds(models, offers=False), models, **FULL_CONFIG)
    timetable(sqlite_engine, models)
    result = run(app)
    assert result.exit_code == 1, result.output
    assert "FAILED  bookable-shape" in result.output
    assert "no offers, in the opportunity or its superEvent/facilityUse" in result.output


def test_a_site_too_large_for_one_run_warns(
    sqlite_engine: Engine, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_module, "SIZE_LIMIT", 5)
    app = site_app(sqlite_engine, club_feeds(models), models, **FULL_CONFIG)
    timetable(sqlite_engine, models)
    lenient, strict = run(app), run(app, "--strict")
    assert lenient.exit_code == 0, lenient.output
    assert "WARNING site-size" in lenient.output
    assert (
        "8 live items: the Test Suite validates each one (65-70 a second has been measured)"
        in lenient.output
    )
    assert strict.exit_code == 1
    assert "(--strict: warnings fail)" in strict.output


def test_an_organisation_whose_logo_does_not_parse_fails_loudly(
    sqlite_engine: Engine, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    class Sites:
        def keys(self) -> list[str]:
            return ["good", "bad-logo"]

        def metadata(self, key: str) -> dict[str, t.Any] | None:
            if key not in self.keys():
                return None
            return {
                "RPDE_PUBLISHER_NAME": f"Club {key}",
                "RPDE_PUBLISHER_LEGAL_NAME": f"Club {key} Ltd",
                "RPDE_PUBLISHER_URL": f"https://{key}.example.org/",
                "RPDE_PUBLISHER_LOGO": "logo.png"
                if key == "bad-logo"
                else f"https://{key}.example.org/l.png",
            }

    rpde = club_feeds(models)
    rpde.dataset_provider(Sites())
    app = site_app(sqlite_engine, rpde, models, **FULL_CONFIG)
    timetable(sqlite_engine, models)
    with caplog.at_level(logging.ERROR, logger="rpde_publisher"):
        result = run(app, "bad-logo")
        good = run(app, "good")
    assert good.exit_code == 0, good.output
    assert result.exit_code == 1, result.output
    assert "Required property `logo` is missing from `Organization`" in result.output
    assert (
        "Organisation 'bad-logo': RPDE_PUBLISHER_LOGO must be an absolute http(s) URL"
        in result.output
    )
    assert any(
        record.levelno == logging.ERROR
        and "bad-logo" in record.getMessage()
        and "RPDE_PUBLISHER_LOGO" in record.getMessage()
        for record in caplog.records
    )
    unknown = run(app, "nobody")
    assert unknown.exit_code == 2
    assert "organisation 'nobody' has no dataset site" in unknown.output


def test_over_http_without_an_app(sqlite_engine: Engine, models: Models) -> None:
    """``python -m rpde_publisher validate --dataset-site URL``; a site whose @id is not the
    URL it is served at fails, as the catalogue's CI would."""
    config = {k: v for k, v in FULL_CONFIG.items() if k != "RPDE_BASE_URL"}
    app = site_app(sqlite_engine, club_feeds(models), models, **config)
    timetable(sqlite_engine, models)
    with serve(app) as base:
        good = _python_m(f"{base}/openactive/", "--json")
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout)[0]["ok"] is True
    other = make_models()
    wrong = site_app(sqlite_engine, club_feeds(other), other, **FULL_CONFIG)
    with serve(wrong) as base:
        result = _python_m(f"{base}/openactive/", "--no-progress")
    assert result.returncode == 1
    assert "FAILED  site-id" in result.stdout
    assert f"@id is '{SITE}', not the URL '{base}/openactive/'" in result.stdout


def _python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpde_publisher", "validate", "--dataset-site", *args, *FAST[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_validate_needs_a_target_without_dataset_site(
    sqlite_engine: Engine, models: Models
) -> None:
    app = site_app(sqlite_engine, club_feeds(models), models, **FULL_CONFIG)
    result = app.test_cli_runner().invoke(args=["rpde", "validate"])
    assert result.exit_code == 2
    assert "give a feed's name or URL (or --dataset-site)" in result.output


def test_the_example_app_and_each_organisation_site_would_pass(tmp_path: Path) -> None:
    from example_app import create_app
    from example_app.models import db
    from example_app.models import SessionSeries

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/example.sqlite3"})
    runner = app.test_cli_runner()
    args = ["rpde", "validate", "--dataset-site", "--json", "--no-rewalk", *FAST]
    reports = json.loads(runner.invoke(args=args).output)
    sites = [report["target"] for report in reports]
    assert sites == ["http://localhost/openactive/"] + [
        f"http://localhost/openactive/organisations/{key}/" for key in (1, 2, 3)
    ]
    for report in reports:
        assert report["ok"] and report["failures"] == 0, report
        assert report["opportunities"]["orphans"] == 0
        assert report["opportunities"]["opportunities"] > 0

    # A series deleted in the admin: its sessions leave with it, and no orphan is left.
    with app.app_context():
        series = db.session.scalars(select(SessionSeries).order_by(SessionSeries.id)).first()
        assert series is not None
        db.session.delete(series)
        db.session.commit()
    result = runner.invoke(args=["rpde", "validate", "--dataset-site", "--no-rewalk", *FAST])
    assert result.exit_code == 0, result.output
    assert "0 of them orphans" in result.output and "4 of 4 dataset site(s) would pass." in (
        result.output
    )


def test_dataset_jsonld_hints_only_when_asked() -> None:
    findings = check_dataset_jsonld({"@id": SITE}, SITE)
    assert not any("Set RPDE_" in f.message for f in findings)
    hinted = check_dataset_jsonld({"@id": SITE}, SITE, hints=True)
    assert any("Set RPDE_DISCUSSION_URL" in f.message for f in hinted)
    assert dataset_jsonld.is_url("http://127.0.0.1:5000/openactive/")
    assert not dataset_jsonld.is_url("/openactive/")


def test_docs_describe_every_site_check() -> None:
    from rpde_publisher.validate.site_rules import SITE_RULES

    docs = (ROOT / "docs" / "validating.md").read_text()
    for rule in SITE_RULES:
        assert f"| `{rule.id}` |" in docs, f"docs/validating.md does not describe {rule.id}"
