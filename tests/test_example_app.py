"""The example app's data: first-start seeding, the bulk reseed, simulated changes, bookings."""

from __future__ import annotations

import re
import threading
import typing as t
from datetime import datetime
from datetime import UTC
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from .example import Admin
from .example import DATABASES
from .example import eventually
from .example import example_app
from .example import example_app_on
from .example import feed_states
from .example import FEEDS

NOW = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # the weekend the clocks go forward


@pytest.fixture
def app(tmp_path: Path) -> t.Iterator[Flask]:
    with example_app(f"sqlite:///{tmp_path / 'example.sqlite3'}") as app:
        yield app


@pytest.fixture(params=DATABASES)
def any_app(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[Flask]:
    """The example app on embedded SQLite and on PostgreSQL."""
    with example_app_on(request.param, request, tmp_path) as app:
        yield app


def test_first_start_seeds_every_feed_and_honours_the_opt_out(app: Flask) -> None:
    from example_app.seed import ORGANISATIONS
    from example_app.seed import SeedSize

    size = SeedSize()
    # Every live item is stored rendered, the slots (render_at="read") too: no first
    # read has to render the whole seed.
    assert all(row["rpde_data"] for rows in _feed_rows(app) for row in rows if not row["deleted"])
    client = app.test_client()
    states = {feed: feed_states(client, feed) for feed in FEEDS}
    assert len(states["session-series"]) == size.series
    assert len(states["scheduled-sessions"]) == size.series * size.sessions_per_series
    assert len(states["facility-uses"]) == size.facility_uses
    assert len(states["facility-use-slots"]) == size.facility_uses * size.slots_per_facility
    # One organisation in four does not publish open data: its items are tombstones.
    opted_out = sum(1 for *_, publishes in ORGANISATIONS if not publishes) / len(ORGANISATIONS)
    for feed, items in states.items():
        deleted = sum(1 for item in items.values() if item["state"] == "deleted")
        assert deleted == pytest.approx(len(items) * opted_out, abs=2), feed


def test_items_are_opportunity_data_with_references_and_offsets(app: Flask) -> None:
    client = app.test_client()
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def no_empty_values(value: t.Any) -> None:
        assert value not in (None, "", [], {})
        if isinstance(value, dict):
            for inner in value.values():
                no_empty_values(inner)
        elif isinstance(value, list):
            for inner in value:
                no_empty_values(inner)

    kinds = {
        "session-series": "SessionSeries",
        "scheduled-sessions": "ScheduledSession",
        "facility-uses": "FacilityUse",
        "facility-use-slots": "Slot",
    }
    for feed, data_type in kinds.items():
        live = [i["data"] for i in feed_states(client, feed).values() if i["state"] == "updated"]
        assert live
        for data in live:
            no_empty_values(data)
            assert data["@context"] == "https://openactive.io/"
            assert data["@type"] == data_type
            assert data["@id"].startswith("https://")
            for key in ("startDate", "endDate"):
                if key in data:
                    assert iso.match(data[key]), data[key]
    session = next(i for i in feed_states(client, "scheduled-sessions").values() if "data" in i)
    assert session["data"]["superEvent"].startswith("https://leisure.example.org/session-series/")
    slot = next(i for i in feed_states(client, "facility-use-slots").values() if "data" in i)
    assert slot["data"]["facilityUse"].startswith("https://leisure.example.org/facility-uses/")
    series = next(i for i in feed_states(client, "session-series").values() if "data" in i)
    schedule = series["data"]["eventSchedule"][0]
    assert schedule["scheduleTimezone"] == "Europe/London"
    assert series["data"]["location"]["address"]["addressRegion"]


def test_sessions_keep_their_local_time_across_the_clock_change() -> None:
    from example_app.seed import SeedPlan
    from example_app.seed import SeedSize
    from example_app.seed import TIMEZONE

    plan = SeedPlan(SeedSize(series=3, facility_uses=1, slots_per_facility=30), now=NOW)
    series = {row["id"]: row for row in plan.series()}
    for row in plan.sessions():
        local = row["start"].astimezone(TIMEZONE)
        assert local.time() == series[row["series_id"]]["start_time"]
        assert local.weekday() == series[row["series_id"]]["weekday"]
    offsets = {row["start"].astimezone(TIMEZONE).utcoffset() for row in plan.sessions()}
    assert len(offsets) == 2  # GMT before 29 March, BST after: UTC times differ


def _feed_rows(app: Flask) -> list[list[dict[str, t.Any]]]:
    from example_app.feeds import rpde

    tables = _rows(app)
    return [tables[feed.spec.table.name] for feed in rpde.feeds]


def _rows(app: Flask) -> dict[str, list[dict[str, t.Any]]]:
    from example_app.models import db

    with app.app_context():
        tables: dict[str, list[dict[str, t.Any]]] = {}
        for table in db.metadata.sorted_tables:
            if table.name in ("rpde_clock", "rpde_fingerprints", "admin_user"):
                continue
            columns = [c for c in table.columns if c.name != "modified"]
            rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns))
            tables[table.name] = [dict(row._mapping) for row in rows]
        return tables


def test_bulk_seeding_writes_exactly_what_the_orm_writes(tmp_path: Path) -> None:
    from example_app.bulk import insert_rows
    from example_app.bulk import render_items
    from example_app.feeds import rpde
    from example_app.models import db
    from example_app.seed import seed
    from example_app.seed import SeedPlan
    from example_app.seed import SeedSize

    size = SeedSize(series=9, sessions_per_series=4, facility_uses=5, slots_per_facility=30)
    unseeded = {"EXAMPLE_AUTO_SEED": False}
    with (
        example_app(f"sqlite:///{tmp_path / 'orm.sqlite3'}", **unseeded) as orm_app,
        example_app(f"sqlite:///{tmp_path / 'bulk.sqlite3'}", **unseeded) as bulk_app,
    ):
        with orm_app.app_context():
            seed(db.session, size, now=NOW)
            db.session.commit()
            # Slots render on read (render_at="read"): the ORM's commit left them without
            # data, which `flask rpde render --missing` (as bulk seeding) renders.
            unrendered = _rows(orm_app)["slot"]
            assert len(unrendered) == 150 and not any(row["rpde_data"] for row in unrendered)
            assert render_items(db.engine, rpde) == 150
        with bulk_app.app_context():
            progress: list[int] = []
            assert insert_rows(db.engine, SeedPlan(size, now=NOW), progress=progress.append) == (
                size.items
            )
            assert sum(progress) == size.items
            assert render_items(db.engine, rpde) == size.items
        orm, bulk = _rows(orm_app), _rows(bulk_app)
        assert orm == bulk
        assert len(orm["slot"]) == 150 and all(row["rpde_data"] for row in orm["slot"])
        for feed in FEEDS:  # and both publish the same feeds
            assert [
                (i["id"], i.get("data")) for i in feed_states(orm_app.test_client(), feed).values()
            ] == [
                (i["id"], i.get("data")) for i in feed_states(bulk_app.test_client(), feed).values()
            ]


@pytest.mark.parametrize("bulk", [False, True], ids=["orm", "bulk"])
def test_reseed_replaces_the_data_with_the_size_asked_for(
    any_app: Flask, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    app = any_app
    from example_app import cli
    from example_app.seed import SeedSize

    if bulk:
        monkeypatch.setattr(cli, "ORM_SEED_LIMIT", 100)
    result = app.test_cli_runner().invoke(args=["demo", "reseed", "--items", "700"])
    assert result.exit_code == 0, result.output
    size = SeedSize.for_items(700)
    assert f"Seeded {size.items} feed items" in result.output
    if bulk:
        assert "Rendering items" in result.output
    client = app.test_client()

    def everything_published() -> None:
        total = 0
        for feed in FEEDS:
            items = feed_states(client, feed)
            assert all("data" in item for item in items.values() if item["state"] == "updated")
            total += len(items)
        assert total == size.items

    eventually(everything_published)
    assert Admin(app.test_client()).login().status_code == 303  # the admin user is back
    # New rows get new ids after a seed that gave its own (PostgreSQL's sequences moved).
    more = app.test_cli_runner().invoke(args=["demo", "simulate", "--count", "30", "--rate", "0"])
    assert more.exit_code == 0, more.output


def test_reseed_refuses_sizes_out_of_range_and_changes_nothing(app: Flask) -> None:
    client = app.test_client()
    before = feed_states(client, "session-series")
    for items in ("5", "1000001", "lots"):
        result = app.test_cli_runner().invoke(args=["demo", "reseed", "--items", items])
        assert result.exit_code == 2
        assert "Invalid value for '--items'" in result.output
    assert feed_states(client, "session-series") == before


def test_simulate_streams_changes_that_the_feeds_follow(any_app: Flask) -> None:
    app = any_app
    client = app.test_client()
    before = {feed: feed_states(client, feed) for feed in FEEDS}
    result = app.test_cli_runner().invoke(
        args=["demo", "simulate", "--count", "40", "--rate", "0", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Made 40 change(s)" in result.output
    lines = [line for line in result.output.splitlines() if re.match(r"\s+\d+ ", line)]
    assert len(lines) == 40

    def all_followed() -> None:
        after = {feed: feed_states(client, feed) for feed in FEEDS}
        for line in lines:  # each change named the item it moved: the feed shows it moved
            feed, item_id = re.search(r"\[(\S+) (\d+)\]$", line).groups()  # type: ignore[union-attr]
            old, new = before[feed].get(int(item_id)), after[feed][int(item_id)]
            assert old is None or new["modified"] > old["modified"], line

    eventually(all_followed)
    assert "booking" in result.output


def test_simulate_stops_after_the_time_given(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["demo", "simulate", "--seconds", "0.6", "--rate", "5", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    made, elapsed = re.search(r"Made (\d+) change\(s\) in ([\d.]+)s", result.output).groups()  # type: ignore[union-attr]
    assert 1 <= int(made) <= 4
    assert float(elapsed) < 2


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_concurrent_bookings_never_take_more_places_than_there_are(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    from example_app.changes import book_session
    from example_app.changes import ChangeRefused
    from example_app.models import db
    from example_app.models import ScheduledSession

    with example_app_on(database, request, tmp_path) as app, app.app_context():
        engine = db.engine
        with Session(engine) as session:
            scheduled = session.scalars(
                ScheduledSession.live().where(ScheduledSession.start > datetime.now(UTC))
            ).first()
            assert scheduled is not None
            scheduled.cancelled = False
            scheduled.remaining_capacity = 3
            session.commit()
            session_id = scheduled.id
        outcomes: list[str] = []
        barrier = threading.Barrier(8)

        def book() -> None:
            with Session(engine) as session:
                barrier.wait()
                try:
                    book_session(session, session_id)
                    session.commit()
                    outcomes.append("booked")
                except ChangeRefused as refused:
                    session.rollback()
                    outcomes.append(str(refused))

        threads = [threading.Thread(target=book) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["This session is fully booked."] * 5 + ["booked"] * 3
        with Session(engine) as session:
            row = session.get(ScheduledSession, session_id)
            assert row is not None and row.remaining_capacity == 0

        def published_full() -> None:
            item = feed_states(app.test_client(), "scheduled-sessions")[session_id]
            assert item["data"]["remainingAttendeeCapacity"] == 0

        eventually(published_full)


def test_the_validator_check_fails_an_item_that_breaks_the_model(
    app: Flask, tmp_path: Path
) -> None:
    """conformance/check_items.py really fails bad data (here: an address without a region)."""
    from conformance.check_items import validate

    good = next(
        i["data"] for i in feed_states(app.test_client(), "session-series").values() if "data" in i
    )
    bad = {
        **good,
        "location": {
            **good["location"],
            "address": {
                k: v for k, v in good["location"]["address"].items() if k != "addressRegion"
            },
        },
    }
    report = validate([{"name": "good", "data": good}, {"name": "bad", "data": bad}], tmp_path)
    failures = {r["name"]: [f["path"] for f in r["failures"]] for r in report["results"]}  # type: ignore[index]
    assert failures == {"good": [], "bad": ["$.location.address.addressRegion"]}
    assert report["misses"] == []


def test_the_validator_check_fails_on_a_warning_too(app: Flask, tmp_path: Path) -> None:
    """The example data is complete (no warning from the validator), and
    conformance/check_items.py fails an item that only lacks a recommended property."""
    from conformance.check_items import assess
    from conformance.check_items import validate

    client = app.test_client()
    documents = [
        {"name": f"{feed}/first", "data": item["data"]}
        for feed in FEEDS
        for item in list(feed_states(client, feed).values())[:1]
        if "data" in item
    ]
    assert len(documents) == 4
    facility = next(d["data"] for d in documents if d["name"].startswith("facility-uses/"))
    lacking = {k: v for k, v in facility.items() if k != "description"}
    report = validate([*documents, {"name": "facility-uses/lacking", "data": lacking}], tmp_path)
    problems, summary = assess(report)
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        "WARNING x1 facility-uses [missing_recommended_field] $.description"
    )
    assert summary["failure_count"] == 0
    assert summary["warnings"] == [
        {
            "feed": "facility-uses",
            "type": "missing_recommended_field",
            "path": "$.description",
            "count": 1,
            "example": "facility-uses/lacking",
        }
    ]


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_simulate_stops_when_told_even_started_with_sigint_ignored(
    tmp_path: Path, stop: str
) -> None:
    """A process a non-interactive shell starts in the background inherits SIGINT
    ignored; the load test's writers then ran on after being told to stop (issue: the
    suite on a busy machine). The simulator installs its own handlers."""
    import os
    import signal
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    environment["FLASK_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'sim.sqlite3'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "example_app", "demo", "simulate"]
        + ["--rate", "20", "--seed", "1"],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        made = 0
        for line in process.stdout:  # wait on progress: three changes made
            made += bool(re.match(r"\s+\d+\s", line))
            if made == 3:
                break
        assert made == 3, "the simulator made changes before it was stopped"
        process.send_signal(getattr(signal, stop))
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, rest
    assert re.search(r"^Made \d+ change\(s\) in ", rest, re.MULTILINE), rest


def test_a_database_from_an_older_example_app_is_named_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """There are no migrations: a database lacking a column the models now have gets a
    warning naming the table, the columns and the fix, instead of errors on every page."""
    import sqlite3

    database = tmp_path / "old.sqlite3"
    with example_app(f"sqlite:///{database}", EXAMPLE_AUTO_SEED=False):
        pass  # creates the tables (and drops them after); recreate one the old way
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE leader (id INTEGER PRIMARY KEY)")  # no name
    connection.commit()
    connection.close()
    with caplog.at_level("WARNING"), example_app(f"sqlite:///{database}", EXAMPLE_AUTO_SEED=False):
        pass
    warnings = [r.getMessage() for r in caplog.records if "lacks column" in r.getMessage()]
    assert warnings == [
        "The database's table leader lacks column(s) name: an older example app made it."
        " Run `flask demo reseed` (which replaces the demo data) to rebuild it."
    ]


def test_the_quality_report_scores_every_figure_that_applies_at_one(app: Flask) -> None:
    """`flask rpde quality`: the figures OpenActive's dashboard scores, on the seeded app."""
    import json

    result = app.test_cli_runner().invoke(args=["rpde", "quality", "--json"])
    assert result.exit_code == 0, result.output
    reports = {report["feed"]: report for report in json.loads(result.stdout)}
    assert set(reports) == set(FEEDS)
    for feed, report in reports.items():
        figures = {k: v for k, v in report.items() if k.endswith("_completeness")}
        assert {k: v for k, v in figures.items() if v is not None and v != 1.0} == {}, feed
        assert report["status"] == "OK" and report["errors"] == report["warnings"] == {}, feed
    # Which figures apply is the kind's: a series has no facility type, a slot its
    # facility's; every series runs over a term with a start and an end.
    assert reports["session-series"]["facilities_completeness"] is None
    assert reports["session-series"]["start_date_completeness"] == 1.0
    assert reports["facility-use-slots"]["facilities_completeness"] == 1.0
    assert reports["scheduled-sessions"]["num_future_opportunity_items"] > 0


def test_a_session_added_past_the_term_extends_its_series(app: Flask) -> None:
    from example_app.changes import add_session
    from example_app.models import db
    from example_app.models import SessionSeries

    with app.app_context():
        series = db.session.get(SessionSeries, 1)
        assert series is not None and series.starts is not None and series.ends is not None
        starts, ends = series.starts, series.ends
        added = add_session(db.session, series)
        db.session.commit()
        assert series.ends == added.end > ends and series.starts == starts
        data = eventually(lambda: feed_states(app.test_client(), "session-series")[1])["data"]
        assert data["endDate"] == added.end.isoformat().replace("+00:00", "Z")
