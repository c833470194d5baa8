"""RPDE_ITEM_CHECKS: a write's item data checked against OpenActive's model as it renders."""

from __future__ import annotations

import logging
import typing as t
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import ConfigurationError
from rpde_publisher import ItemDataError
from rpde_publisher import RPDE
from rpde_publisher.item_checks import WARN_ITEMS_PER_WRITE
from rpde_publisher.openactive.models import item_schema
from rpde_publisher.openactive.models import SessionSeries

from .models import make_app
from .models import Models
from .test_openactive_models_feed import render_series
from .test_openactive_models_feed import series_feed
from .walking import settle
from .walking import walk

FEED = "http://localhost/openactive/feeds/session-series"
LOGGER = "rpde_publisher.item_checks"


def render_checked(series: t.Any) -> SessionSeries:
    """render_series, but a series marked online-only has no venue: its required
    ``location`` is missing, a failure of OpenActive's model."""
    data = render_series(series)
    if series.notes == "online only":
        data.pop("location")  # type: ignore[misc]
    return data


def _feed(models: Models, **options: t.Any) -> RPDE:
    return series_feed(models, render_checked, **options)


def _series(models: Models, name: str, notes: str | None = None) -> t.Any:
    return models.Series(
        name=name,
        notes=notes,
        place=models.Place(name="Main pool"),
        organisation=models.Organisation(name="Leisure Co"),
        offers=[models.Offer(price=Decimal("5.50"))],
    )


def _count(engine: Engine, models: Models) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(models.Series)) or 0


@pytest.mark.parametrize("render_at", ["commit", "read"])
def test_error_fails_the_write_that_made_broken_data_and_commits_nothing(
    sqlite_engine: Engine, models: Models, render_at: str
) -> None:
    rpde = _feed(models, render_at=render_at)
    models.Base.metadata.create_all(sqlite_engine)
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="error")
    with Session(sqlite_engine) as session:
        session.add(_series(models, "Lane swim"))
        session.commit()  # good data: written
        session.add(_series(models, "Swim online", notes="online only"))
        with pytest.raises(ItemDataError) as raised:
            session.commit()
        session.rollback()

    error = raised.value
    assert error.feed == "session-series"
    assert [(m.path, m.rule) for m in error.failures] == [("$.location", "missing_required_field")]
    assert "fails OpenActive's data model" in str(error) and "$.location" in str(error)
    assert _count(sqlite_engine, models) == 1  # the broken series was not committed


def test_warn_commits_and_logs_each_problem_once_per_feed_rule_and_path(
    sqlite_engine: Engine, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    rpde = _feed(models)
    models.Base.metadata.create_all(sqlite_engine)
    client = make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="warn").test_client()
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with Session(sqlite_engine) as session:
        session.add_all([_series(models, f"Swim {n}", notes="online only") for n in range(3)])
        session.commit()
        session.add(_series(models, "Swim 4", notes="online only"))
        session.commit()
    settle(sqlite_engine)

    assert _count(sqlite_engine, models) == 4
    assert len(walk(client, FEED).copy) == 4  # published as rendered
    logged = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    location = [line for line in logged if "at $.location:" in line]
    assert len(location) == 1, logged  # four items, one problem: logged once
    assert "failure missing_required_field" in location[0]
    assert "flask rpde check-items session-series" in location[0]
    # Recommended properties render_series leaves out are warnings, logged once each too.
    assert any("warning missing_recommended_field at $.image" in line for line in logged)
    assert len(logged) == len(set(line.split(": ", 1)[1] for line in logged))


def test_off_checks_nothing(
    sqlite_engine: Engine, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    rpde = _feed(models)
    models.Base.metadata.create_all(sqlite_engine)
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="off")
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with Session(sqlite_engine) as session:
        session.add(_series(models, "Swim online", notes="online only"))
        session.commit()
    assert _count(sqlite_engine, models) == 1
    assert not [r for r in caplog.records if r.name == LOGGER]


def test_a_read_never_checks_even_under_error(
    sqlite_engine: Engine, models: Models, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows written outside the ORM are rendered by the first read: it publishes them."""
    rpde = _feed(models, render_at="read")
    models.Base.metadata.create_all(sqlite_engine)
    client = make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="error").test_client()
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with sqlite_engine.begin() as connection:  # raw SQL: no ORM write, no check
        connection.execute(text("INSERT INTO place (id, name) VALUES (1, 'Main pool')"))
        connection.execute(
            text(
                "INSERT INTO organisation (id, name, publishes_open_data)"
                " VALUES (1, 'Leisure Co', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO series (id, name, notes, place_id, organisation_id)"
                " VALUES (1, 'Swim online', 'online only', 1, 1)"
            )
        )
    settle(sqlite_engine)

    items = walk(client, FEED).copy
    assert "location" not in items[1] and items[1]["name"] == "Swim online"
    assert not [r for r in caplog.records if r.name == LOGGER]


def test_kinds_openactive_has_no_model_for_are_not_checked(
    sqlite_engine: Engine, models: Models
) -> None:
    rpde = RPDE()
    rpde.feed(models.Series, kind="Widget", schema=item_schema(render_checked), embeds=["place"])
    models.Base.metadata.create_all(sqlite_engine)
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="error")
    with Session(sqlite_engine) as session:
        session.add(_series(models, "Swim online", notes="online only"))
        session.commit()
    assert _count(sqlite_engine, models) == 1


def test_activities_are_looked_up_in_the_configured_list(
    sqlite_engine: Engine, models: Models, tmp_path: t.Any
) -> None:
    """render_series's activity is in OpenActive's list; a list without it fails the write."""
    other_list = tmp_path / "activity-list.jsonld"
    other_list.write_text(
        '{"@id": "https://openactive.io/activity-list", "concept": ['
        '{"@id": "https://openactive.io/activity-list#other", "prefLabel": "Other"}]}'
    )
    rpde = _feed(models)
    models.Base.metadata.create_all(sqlite_engine)
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="error", RPDE_ACTIVITY_LIST=str(other_list))
    with Session(sqlite_engine) as session:
        session.add(_series(models, "Lane swim"))
        with pytest.raises(ItemDataError) as raised:
            session.commit()
    assert [(m.path, m.rule) for m in raised.value.failures] == [
        ("$.activity[0]", "activity_not_in_activity_list")
    ]


def test_a_list_that_cannot_be_had_is_said_once_and_its_check_skipped(
    sqlite_engine: Engine, models: Models, tmp_path: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    rpde = _feed(models)
    models.Base.metadata.create_all(sqlite_engine)
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "no-such-list.jsonld"
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS="error", RPDE_ACTIVITY_LIST=str(missing))
    with Session(sqlite_engine) as session:
        session.add(_series(models, "Lane swim"))
        session.commit()  # the activity is not looked up: the write goes ahead
    assert _count(sqlite_engine, models) == 1
    said = [r.getMessage() for r in caplog.records if str(missing) in r.getMessage()]
    assert len(said) == 1 and "skipped" in said[0]


@pytest.mark.parametrize(("testing", "level"), [(True, "error"), (False, "warn")])
def test_the_default_is_error_under_testing_and_warn_elsewhere(
    sqlite_engine: Engine, models: Models, testing: bool, level: str
) -> None:
    rpde = _feed(models)
    make_app(sqlite_engine, rpde, TESTING=testing, RPDE_ITEM_CHECKS=None)
    assert rpde.tables.item_checks.level == level


def test_an_unknown_level_is_refused_at_init_app(sqlite_engine: Engine, models: Models) -> None:
    with pytest.raises(ConfigurationError, match="RPDE_ITEM_CHECKS must be one of off, warn"):
        make_app(sqlite_engine, _feed(models), RPDE_ITEM_CHECKS="strict")


@pytest.mark.parametrize(
    ("level", "checked"), [("warn", WARN_ITEMS_PER_WRITE), ("error", WARN_ITEMS_PER_WRITE + 5)]
)
def test_warn_checks_the_first_items_of_a_large_write_and_error_every_item(
    sqlite_engine: Engine, models: Models, level: str, checked: int
) -> None:
    rpde = _feed(models)
    models.Base.metadata.create_all(sqlite_engine)
    make_app(sqlite_engine, rpde, RPDE_ITEM_CHECKS=level)
    checks = rpde.tables.item_checks
    seen: list[str] = []
    real = checks._check

    def counting(data: t.Any, **options: t.Any) -> t.Any:
        seen.append(data["name"])
        return real(data, **options)

    checks._check = counting
    with Session(sqlite_engine) as session:
        session.add_all([_series(models, f"Swim {n}") for n in range(WARN_ITEMS_PER_WRITE + 5)])
        session.commit()
    assert len(seen) == checked
    assert _count(sqlite_engine, models) == WARN_ITEMS_PER_WRITE + 5
