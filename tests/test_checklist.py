"""``flask rpde checklist``: the five steps, done or missing, and its exit status."""

from __future__ import annotations

import json
import typing as t

import pytest
from sqlalchemy.engine import Engine

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
    assert "https://data.harbour-sports.example.org/openactive/ as the page" in result.output


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
        " -  RPDE_BASE_URL is not set",
    ):
        assert line in output
    assert "5. Get an Open Data Certificate: MISSING" in output
    assert "[ ] The page's DCAT lacks the publisher's name (foaf:name)" in output
    assert (
        "[ ] The page's DCAT lacks a contact email (foaf:mbox): set RPDE_PUBLISHER_EMAIL" in output
    )
    assert (
        "[ ] The page's DCAT lacks the release date (dct:issued): set RPDE_DATE_PUBLISHED" in output
    )
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
    assert [s["done"] for s in steps] == [True, True, True, False, True]
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
    assert "organisations/complete/" not in result.output
