"""``flask rpde checklist``: the five steps, done or missing, and its exit status."""

from __future__ import annotations

import json
import logging
import typing as t

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE

from .dataset_apps import FULL_CONFIG
from .dataset_apps import site_app
from .models import Models


def run(app: t.Any, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["rpde", "checklist", *args])


@pytest.fixture
def filtered_rpde(models: Models) -> RPDE:
    """The standard feeds, each with an opt-out filter."""
    rpde = RPDE()
    publishes = models.Organisation.publishes_open_data.is_(True)
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        embeds=["organisation"],
        publish_when=lambda: models.Series.organisation.has(publishes),
    )
    rpde.feed(
        models.Facility,
        kind="FacilityUse",
        schema=models.FacilitySchema,
        publish_when=models.Facility.name.isnot(None),
    )
    rpde.feed(
        models.Change,
        kind="Event",
        schema=models.ChangeSchema,
        ordering="change_number",
        publish_when=models.Change.name.isnot(None),
    )
    return rpde


def test_a_complete_publisher_passes_every_step(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    app = site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG)
    result = run(app)
    assert result.exit_code == 0, result.output
    for number in range(1, 6):
        assert f"{number}. " in result.output
    assert "MISSING" not in result.output and "[ ]" not in result.output
    assert "5 of 5 steps done." in result.output
    assert "[x] events: the first page is an RPDE page (0 item(s))." in result.output
    assert "[x] Its JSON-LD has every field OpenActive's validator requires." in result.output
    assert "5. Register with OpenActive and get an Open Data Certificate: DONE" in result.output
    assert "since August 2025 the ODI's new certificate platform no longer fills" in (result.output)
    assert "the form fills itself in" not in result.output


def _answers(output: str) -> dict[str, str]:
    """The certificate's answers the checklist printed, by question."""
    lines = output.split("Open Data Certificate: answers to paste")[1].splitlines()
    answers = {}
    for question, answer in zip(lines, lines[1:], strict=False):
        if question.strip().startswith("Q: ") and answer.strip().startswith("A: "):
            answers[question.strip()[3:]] = answer.strip()[3:]
    return answers


def test_step_5_prints_the_certificate_answers_in_the_questionnaires_order(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    output = run(site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG)).output
    answers = _answers(output)
    site = "https://data.harbour-sports.example.org/openactive/"
    issues = "https://github.com/harbour-sports/opendata/issues"
    expected = {
        "What's this data called?": "Harbour Sports Trust Sessions, Facilities and Events",
        "Where is it described?": site,
        "Who publishes this data?": "Harbour Sports Trust",
        "What is the website of the publisher?": "https://harbour-sports.example.org/",
        "Contact email": "data@harbour-sports.example.org",
        "What kind of release is this?": "a service or API for accessing open data",
        "Under which licence can people reuse this data?": (
            "Creative Commons Attribution (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/)"
        ),
        "Under which licence can others reuse content?": (
            "Creative Commons Attribution (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/)"
        ),
        "Does the data behind your API change?": "yes, the API gives access to changing data",
        "Where should people discuss this dataset?": issues,
        "Release date": "2025-03-01T09:30:00+01:00",
        "Where is the technical documentation for the data?": (
            "https://harbour-sports.example.org/developers"
        ),
        "Do you have the right to make this data open?": "(see note)",
    }
    assert {question: answers.get(question) for question in expected} == expected
    assert answers["Where is the endpoint for your API?"].startswith(
        f"SessionSeries: {site}feeds/session-series; FacilityUse: {site}feeds/facility-uses"
    )
    assert (
        "JSON, RPDE 1.0 (application/vnd.openactive.rpde+json; version=1)"
        in (answers["Is this data in a standard open format?"])
    )
    # The questionnaire's order: general, legal, practical, technical, social.
    order = list(answers)
    assert (
        order.index("What's this data called?")
        < order.index("Under which licence can people reuse this data?")
        < order.index("Does the data behind your API change?")
        < order.index("Where is the endpoint for your API?")
        < order.index("Where should people discuss this dataset?")
    )
    # The licence answer follows RPDE_LICENSE.
    cc0 = run(
        site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG, RPDE_LICENSE="CC0-1.0")
    ).output
    assert _answers(cc0)["Under which licence can people reuse this data?"] == (
        "Creative Commons CCZero (CC0 1.0, https://creativecommons.org/publicdomain/zero/1.0/)"
    )


def test_step_5_prints_the_registration_entry(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    result = run(site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG))
    entry = result.output.split("OpenActive registration: the pull request")[1]
    assert "https://github.com/openactive/data-catalogs editing singular.jsonld" in entry
    assert 'add to its "dataset" array' in entry
    assert '\n         "https://data.harbour-sports.example.org/openactive/",\n' in entry
    assert "runs the OpenActive Test Suite's validate-feeds on it" in entry
    assert (
        "[x] The JSON-LD of 1 site(s) passes what OpenActive's Test Suite checks of a"
        " dataset site." in result.output
    )
    assert "[x] 0 live item(s): few enough for the Test Suite" in result.output


def test_step_5_needs_the_public_url_to_register(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    config = {k: v for k, v in FULL_CONFIG.items() if k != "RPDE_BASE_URL"}
    result = run(site_app(sqlite_engine, filtered_rpde, models, **config))
    assert result.exit_code == 1
    assert "5. Register with OpenActive and get an Open Data Certificate: MISSING" in (
        result.output
    )
    assert "[ ] RPDE_BASE_URL is not set: the URL registered with OpenActive must be" in (
        result.output
    )


def test_step_5_warns_of_a_site_too_large_for_one_run(
    sqlite_engine: Engine,
    filtered_rpde: RPDE,
    models: Models,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rpde_publisher.validate import site

    monkeypatch.setattr(site, "SIZE_LIMIT", 2)
    app = site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG)
    with Session(sqlite_engine) as session:
        session.add_all([models.Facility(id=f"court {n}", name=f"Court {n}") for n in range(3)])
        session.commit()
    result = run(app)
    assert " -  WARNING: 3 live items. The Test Suite validates each one (65-70 a second" in (
        result.output
    )
    assert "split it into per-organisation sites listed by a DataCatalog" in result.output
    assert "retire past slots" in result.output


def test_validate_sites_runs_the_registration_check(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    app = site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG)
    site = "https://data.harbour-sports.example.org/openactive/"
    result = run(app, "--validate-sites")
    # No item yet: OpenActive's Test Suite refuses a site with no opportunity.
    assert result.exit_code == 1
    assert f"[ ] {site} would fail: opportunities: Zero opportunities could be harvested" in (
        result.output
    )
    without = run(app)
    assert "would fail: opportunities" not in without.output, "only with --validate-sites"
    assert without.exit_code == 0


def test_a_new_publisher_is_told_what_is_missing(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    result = run(site_app(sqlite_engine, rpde, models))
    assert result.exit_code == 1
    output = result.output
    assert "1. Build the OpenActive API: feeds registered and valid: DONE" in output
    assert "2. Choose a licence: DONE" in output
    assert "3. Amend terms and build an opt-out: DONE" in output, "a single publisher"
    assert "4. Create a dataset homepage: MISSING" in output
    for line in (
        "[ ] publisher.name (required) is missing: set RPDE_PUBLISHER_NAME",
        "[ ] publisher.legalName (required) is missing: set RPDE_PUBLISHER_LEGAL_NAME",
        "[ ] publisher.url (required) is missing: set RPDE_PUBLISHER_URL",
        "[ ] publisher.logo (required) is missing: set RPDE_PUBLISHER_LOGO",
        "[ ] discussionUrl (required) is missing: set RPDE_DISCUSSION_URL",
        " -  datePublished (recommended) is missing: set RPDE_DATE_PUBLISHED",
        "[ ] Neither RPDE_BASE_URL nor TRUSTED_HOSTS is set",
    ):
        assert line in output
    assert "5. Register with OpenActive and get an Open Data Certificate: MISSING" in output
    assert "[ ] A certificate names who publishes the data: set RPDE_PUBLISHER_NAME." in output
    assert (
        "[ ] Registration would fail: http://localhost/openactive/: Required property"
        " `discussionUrl` is missing from `Dataset` (discussionUrl). Set RPDE_DISCUSSION_URL."
        " Required property `publisher` is missing from `Dataset` (publisher). Set"
        " RPDE_PUBLISHER_NAME." in output
    )
    assert "[ ] RPDE_BASE_URL is not set: the URL registered with OpenActive" in output
    assert "3 of 5 steps done." in output


def test_a_single_publisher_passes_step_3_with_its_terms_alone(
    sqlite_engine: Engine, rpde: RPDE, models: Models
) -> None:
    """No organisation= feeds and no dataset provider: its own data, no filter needed."""
    result = run(site_app(sqlite_engine, rpde, models, **FULL_CONFIG))
    assert result.exit_code == 0, result.output
    step = result.output.split("3. ")[1].split("4. ")[0]
    assert step.startswith("Amend terms and build an opt-out: DONE")
    assert "[x] A single publisher (no organisation= feeds, no dataset provider)" in step
    assert "[ ]" not in step
    assert "Software cannot check your terms" in step
    assert "For a single publisher an opt-out is leaving something out: publish_when=" in step
    assert "On a platform each organisation can opt out" in step


def test_a_single_publishers_filters_are_reported(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    result = run(site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG))
    assert "[x] session-series: items outside publish_when= leave the feed." in result.output
    assert "[x] A single publisher" in result.output


@pytest.mark.parametrize("shape", ["dataset provider", "organisation= feed"])
def test_a_platform_needs_an_opt_out_filter_on_every_feed(
    sqlite_engine: Engine, models: Models, shape: str
) -> None:
    rpde = RPDE()
    organisation = models.Series.organisation_id if shape == "organisation= feed" else None
    rpde.feed(
        models.Series,
        kind="SessionSeries",
        schema=models.SeriesSchema,
        embeds=["organisation"],
        organisation=organisation,
    )
    rpde.feed(
        models.Facility,
        kind="FacilityUse",
        schema=models.FacilitySchema,
        publish_when=models.Facility.name.isnot(None),
    )
    if shape == "dataset provider":
        rpde.dataset_provider(_Sites())
    result = run(site_app(sqlite_engine, rpde, models, **FULL_CONFIG))
    assert result.exit_code == 1
    step = result.output.split("3. ")[1].split("4. ")[0]
    assert step.startswith("Amend terms and build an opt-out: MISSING")
    assert "[ ] session-series: no opt-out filter. Pass publish_when=" in step
    assert "[x] facility-uses: items outside publish_when= leave the feed." in step
    assert "single publisher" not in step
    assert "On a platform an opt-out is an organisation's: its items leave every feed" in step


def test_a_licence_openactive_does_not_accept_is_missing(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    app = site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG, RPDE_LICENSE="CC0-1.0")
    result = run(app)
    assert result.exit_code == 1
    assert "2. Choose a licence: MISSING" in result.output
    assert "RPDE_LICENSE is Creative Commons Zero 1.0" in result.output
    assert "OpenActive's validator and catalogue accept only CC BY 4.0" in result.output


def test_a_feed_that_cannot_answer_is_missing(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    app = site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG)
    models.Change.__table__.drop(sqlite_engine)
    result = run(app)
    assert result.exit_code == 1
    assert "1. Build the OpenActive API: feeds registered and valid: MISSING" in result.output
    assert "[ ] Feed 'events': table 'change' does not exist in the database." in result.output
    assert "answered 503" not in result.output, "the cause is named, not its symptom"


def test_a_github_discussion_url_must_be_the_issues_board(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    config = {**FULL_CONFIG, "RPDE_DISCUSSION_URL": "https://github.com/harbour-sports/opendata"}
    result = run(site_app(sqlite_engine, filtered_rpde, models, **config))
    assert result.exit_code == 1
    assert "[ ] RPDE_DISCUSSION_URL on GitHub must be the /issues page" in result.output


def test_json_output(sqlite_engine: Engine, rpde: RPDE, models: Models) -> None:
    app = site_app(sqlite_engine, rpde, models, **{**FULL_CONFIG, "RPDE_PUBLISHER_LOGO": None})
    result = run(app, "--json")
    assert result.exit_code == 1
    steps = json.loads(result.output)
    assert [s["number"] for s in steps] == [1, 2, 3, 4, 5]
    assert [s["done"] for s in steps] == [True, True, True, False, False]  # no logo: 4 and 5
    assert {"status": "missing", "text": steps[3]["items"][1]["text"]} in steps[3]["items"]


class _Sites:
    def keys(self) -> list[str]:
        return ["complete", "no-logo"]

    def metadata(self, key: str) -> dict[str, t.Any] | None:
        metadata = {
            "RPDE_PUBLISHER_NAME": f"Club {key}",
            "RPDE_PUBLISHER_LEGAL_NAME": f"Club {key} Ltd",
            "RPDE_PUBLISHER_URL": f"https://{key}.example.org/",
            "RPDE_PUBLISHER_EMAIL": f"data@{key}.example.org",
            "RPDE_PUBLISHER_LOGO": f"https://{key}.example.org/logo.png",
        }
        if key == "no-logo":
            del metadata["RPDE_PUBLISHER_LOGO"]
        return metadata


def test_incomplete_organisation_sites_are_missing(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models
) -> None:
    filtered_rpde.dataset_provider(_Sites())
    result = run(site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG))
    assert result.exit_code == 1
    assert "[x] The data catalogue lists 2 organisation site(s)." in result.output
    assert (
        "[ ] Organisation site https://data.harbour-sports.example.org/openactive/organisations"
        "/no-logo/: publisher.logo (required) is missing: set RPDE_PUBLISHER_LOGO"
    ) in result.output
    assert "Registration would fail: https://data.harbour-sports.example.org/openactive" in (
        result.output
    )
    assert "organisations/complete/: " not in result.output
    # The entry registers the catalogue, and names the sites it lists.
    entry = result.output.split("OpenActive registration: the pull request")[1]
    assert "editing data-catalog-collection.jsonld" in entry
    assert '"https://data.harbour-sports.example.org/openactive/data-catalog",' in entry
    assert "https://data.harbour-sports.example.org/openactive/organisations/complete/" in entry


def test_an_organisation_setting_that_does_not_parse_is_named(
    sqlite_engine: Engine, filtered_rpde: RPDE, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    class BadLogo(_Sites):
        def metadata(self, key: str) -> dict[str, t.Any] | None:
            metadata = super().metadata(key)
            if metadata is not None and key == "no-logo":
                metadata["RPDE_PUBLISHER_LOGO"] = "/static/logo.png"
            return metadata

    filtered_rpde.dataset_provider(BadLogo())
    with caplog.at_level(logging.ERROR, logger="rpde_publisher"):
        result = run(site_app(sqlite_engine, filtered_rpde, models, **FULL_CONFIG))
    assert result.exit_code == 1
    assert (
        "[ ] Registration would fail: https://data.harbour-sports.example.org/openactive"
        "/organisations/no-logo/: RPDE_PUBLISHER_LOGO must be an absolute http(s) URL such as"
        " 'https://example.org/', got '/static/logo.png'. It is left out of the site (never"
        " replaced by another value). Required property `logo` is missing from"
        " `Organization` (publisher.logo). Set RPDE_PUBLISHER_LOGO."
    ) in result.output
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("'no-logo'" in m and "RPDE_PUBLISHER_LOGO" in m for m in logged), logged
