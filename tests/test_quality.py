"""flask rpde quality and check-items: figures, parents, statuses, exit codes, memory."""

from __future__ import annotations

import json
import tracemalloc
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from marshmallow import fields
from marshmallow import Schema
from sqlalchemy import ForeignKey
from sqlalchemy import insert
from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import Session

from rpde_publisher import FeedMixin
from rpde_publisher import RPDE
from rpde_publisher.quality.commands import CHECKER_KEY
from rpde_publisher.quality.commands import feed_url
from rpde_publisher.quality.figures import feed_figures
from rpde_publisher.quality.figures import has_figure
from rpde_publisher.quality.items import iter_items
from rpde_publisher.quality.items import LiveItem
from rpde_publisher.quality.parents import parent_feeds
from rpde_publisher.quality.parents import resolve_parents

from .models import make_app

FUTURE, PAST = "2999-01-01T10:00:00+00:00", "2000-01-01T10:00:00Z"
T = t.TypeVar("T")


@dataclass(frozen=True)
class Message:
    path: str
    severity: t.Literal["failure", "warning", "suggestion"]
    rule: str
    message: str


def small_checker(data: Mapping[str, t.Any]) -> list[Message]:
    """A real checker of our own: a failure without ``name``, a warning without
    ``description``."""
    messages = []
    if not data.get("name"):
        messages.append(Message("$.name", "failure", "missing_required_field", "No name."))
    if not data.get("description"):
        messages.append(Message("$.description", "warning", "missing_recommended_field", "No."))
    return messages


class Base(DeclarativeBase):
    pass


class Series(FeedMixin, Base):
    __tablename__ = "q_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(100), default=None)
    lat: Mapped[str | None] = mapped_column(String(20), default=None)
    postcode: Mapped[str | None] = mapped_column(String(20), default=None)
    activity: Mapped[str | None] = mapped_column(String(100), default=None)
    start: Mapped[str | None] = mapped_column(String(40), default=None)


class Occurrence(FeedMixin, Base):
    __tablename__ = "q_occurrence"
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("q_series.id"))
    name: Mapped[str] = mapped_column(String(100))
    start: Mapped[str] = mapped_column(String(40))
    series: Mapped[Series] = relationship()


class Pitch(FeedMixin, Base):
    __tablename__ = "q_pitch"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))


class SeriesSchema(Schema):
    name = fields.String()
    description = fields.String()
    startDate = fields.String(attribute="start")
    location = fields.Method("_location")
    activity = fields.Method("_activity")

    def _location(self, obj: Series) -> dict[str, t.Any]:
        location: dict[str, t.Any] = {"name": "Hall"}
        if obj.lat:
            location["geo"] = {"latitude": float(obj.lat), "longitude": -1.5}
        if obj.postcode:
            location["address"] = {"postalCode": obj.postcode}
        return location

    def _activity(self, obj: Series) -> list[dict[str, str]] | None:
        return [{"prefLabel": obj.activity}] if obj.activity else None


class OccurrenceSchema(Schema):
    name = fields.String()
    description = fields.Constant("Weekly")
    startDate = fields.String(attribute="start")
    superEvent = fields.Method("_parent")

    def _parent(self, obj: Occurrence) -> str:
        return f"https://example.com/feeds/session-series/{obj.series_id}"


class PitchSchema(Schema):
    name = fields.String()
    description = fields.Constant("A pitch")
    facilityType = fields.Constant([{"prefLabel": "Football pitch"}])


@pytest.fixture
def rpde() -> RPDE:
    return make_rpde(parent="series")


def make_rpde(**occurrence_options: t.Any) -> RPDE:
    rpde = RPDE()
    rpde.feed(Series, kind="SessionSeries", schema=SeriesSchema)
    rpde.feed(Occurrence, kind="ScheduledSession", schema=OccurrenceSchema, **occurrence_options)
    rpde.feed(Pitch, kind="FacilityUse", schema=PitchSchema)
    return rpde


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, rpde: RPDE) -> t.Iterator[Engine]:
    engine = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)


@pytest.fixture
def app(engine: Engine, rpde: RPDE) -> Flask:
    app = make_app(engine, rpde, RPDE_BASE_URL="https://data.example.org")
    app.extensions[CHECKER_KEY] = small_checker
    with Session(engine) as session:
        session.add_all(
            [
                Series(
                    id=1, name="Geo", description="d", lat="51.5", activity="Yoga", start=FUTURE
                ),
                Series(id=2, name="Geo2", description="d", lat="52.0", activity="Judo", start=PAST),
                Series(id=3, name="Postcode", description="d", postcode="AB1 2CD", start=FUTURE),
                Series(id=4, name="Nowhere"),
            ]
        )
        session.flush()
        session.add_all(
            [
                Occurrence(id=10, series_id=1, name="Mon", start=FUTURE),
                Occurrence(id=11, series_id=4, name="Tue", start=PAST),
                Pitch(id="p1", name="Pitch 1"),
                Pitch(id="p2", name=None),
            ]
        )
        session.commit()
    return app


def invoke(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["rpde", *args])


def figures_of(app: Flask, *feeds: str) -> dict[str, dict[str, t.Any]]:
    result = invoke(app, "quality", "--json", *feeds)
    assert result.exit_code == 0, result.output
    return {figures["feed"]: figures for figures in json.loads(result.stdout)}


def test_figures_of_a_small_known_feed(app: Flask) -> None:
    series = figures_of(app, "session-series")["session-series"]
    assert series == {
        "feed": "session-series",
        "feed_url": "https://data.example.org/openactive/feeds/session-series",
        "feed_type": "SessionSeries",
        "status": "WARNING",
        "items": 4,
        "errors": {},
        "warnings": {"missing_recommended_field": 1},
        "location_completeness": 0.75,
        "start_date_completeness": 0.75,
        "end_date_completeness": 0.0,
        "activities_completeness": 0.5,
        "facilities_completeness": None,
        "num_future_opportunity_items": 2,
    }


def test_children_take_figures_from_the_parent_their_superevent_names(app: Flask) -> None:
    sessions = figures_of(app, "scheduled-sessions")["scheduled-sessions"]
    # Occurrence 10's series has geo and an activity; occurrence 11's has neither.
    assert sessions["location_completeness"] == 0.5
    assert sessions["activities_completeness"] == 0.5
    assert sessions["start_date_completeness"] == 1.0
    assert sessions["num_future_opportunity_items"] == 1
    assert sessions["status"] == "OK"


def test_without_parent_the_parent_feed_is_found_by_kind() -> None:
    rpde = make_rpde()
    feeds = list(rpde.feeds)
    sessions = rpde.feeds.get("scheduled-sessions")
    assert sessions is not None
    assert [feed.name for feed in parent_feeds(sessions, feeds)] == ["session-series"]
    with_link = make_rpde(parent="series").feeds.get("scheduled-sessions")
    assert with_link is not None
    assert [feed.name for feed in parent_feeds(with_link, feeds)] == ["session-series"]


def test_an_embedded_parent_is_read_as_it_is(engine: Engine, rpde: RPDE) -> None:
    embedded = {"location": {"address": {"postalCode": "AB1 2CD"}}}
    items = [LiveItem(0, 1, {"superEvent": embedded}), LiveItem(1, 2, {"name": "x"})]
    with engine.connect() as connection:
        assert resolve_parents(connection, items, list(rpde.feeds)) == {0: embedded}
    assert has_figure("location", embedded)


def test_feed_url_without_base_url_uses_server_name(engine: Engine, rpde: RPDE) -> None:
    app = make_app(engine, rpde)
    with app.app_context():
        feed = rpde.feeds.get("facility-uses")
        assert feed is not None
        assert feed_url(rpde, feed) == "http://localhost/openactive/feeds/facility-uses"
    app.config["SERVER_NAME"] = "data.example.net"
    with app.app_context():
        assert feed_url(rpde, feed) == "http://data.example.net/openactive/feeds/facility-uses"


def test_kinds_that_never_carry_a_figure_give_null_and_failures_give_error(app: Flask) -> None:
    pitches = figures_of(app, "facility-uses")["facility-uses"]
    assert pitches["start_date_completeness"] is None
    assert pitches["end_date_completeness"] is None
    assert pitches["activities_completeness"] is None
    assert pitches["facilities_completeness"] == 1.0
    assert pitches["location_completeness"] == 0.0
    assert pitches["status"] == "ERROR"
    assert pitches["errors"] == {"missing_required_field": 1}


def test_quality_covers_every_feed_and_prints_a_table(app: Flask) -> None:
    assert set(figures_of(app)) == {"session-series", "scheduled-sessions", "facility-uses"}
    result = invoke(app, "quality", "session-series")
    assert result.exit_code == 0, result.output
    assert "session-series (SessionSeries): WARNING" in result.stdout
    assert "location:      75%" in result.stdout
    assert "facilities:    n/a" in result.stdout


def test_tombstones_are_not_items(app: Flask, engine: Engine) -> None:
    with Session(engine) as session:
        session.delete(session.get(Series, 4))
        session.commit()
    series = figures_of(app, "session-series")["session-series"]
    assert series["items"] == 3
    assert series["location_completeness"] == 1.0
    assert series["status"] == "OK"


def test_check_items_lines_and_exit_codes(app: Flask) -> None:
    result = invoke(app, "check-items", "facility-uses", "--json")
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {
            "index": 1,
            "id": "p2",
            "path": "$.name",
            "severity": "failure",
            "rule": "missing_required_field",
            "message": "No name.",
        }
    ]
    warnings_only = invoke(app, "check-items", "session-series", "--json")
    assert warnings_only.exit_code == 0, warnings_only.output
    (line,) = [json.loads(line) for line in warnings_only.stdout.splitlines()]
    assert (line["index"], line["id"], line["severity"]) == (3, 4, "warning")
    readable = invoke(app, "check-items", "facility-uses")
    assert "item p2 [failure] $.name: No name. (missing_required_field)" in readable.stdout


@pytest.mark.parametrize("command", [["quality", "nope"], ["check-items", "nope"]])
def test_unknown_feed_is_a_usage_error(app: Flask, command: list[str]) -> None:
    result = invoke(app, *command)
    assert result.exit_code == 2
    assert "no feed named 'nope'" in result.output
    assert "session-series" in result.output


def test_without_a_checker_of_the_app_the_commands_use_the_item_checks(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenActive's own checks by default: the test models' data lacks what the data
    models require (``@context``, ``@type``, ...), so check-items fails and names it."""
    from rpde_publisher.openactive import vocabulary

    data = Path(__file__).parent / "data"
    monkeypatch.setenv(vocabulary.ACTIVITY_LIST_ENV, str(data / "activity-list.jsonld"))
    monkeypatch.setenv(vocabulary.FACILITY_TYPES_ENV, str(data / "facility-types.jsonld"))
    monkeypatch.setattr(vocabulary, "_default", None)
    del app.extensions[CHECKER_KEY]
    result = invoke(app, "check-items", "session-series", "--json")
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["id"] for line in lines} == {1, 2, 3, 4}
    failures = {
        (line["id"], line["rule"], line["path"]) for line in lines if line["severity"] == "failure"
    }
    assert (1, "missing_required_field", '$["@context"]') in failures
    quality = invoke(app, "quality", "session-series", "--json")
    assert json.loads(quality.stdout)[0]["status"] == "ERROR"


def _traced_peak(run: t.Callable[[], T]) -> tuple[T, int]:
    """What ``run`` returns, and the peak memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        return run(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_figures(app: Flask, engine: Engine, first: int, count: int) -> tuple[int, int]:
    """Peak traced memory of the figures of the occurrences feed after adding ``count``
    children (rendered on read: raw SQL stores no data), each naming its parent by URL."""
    with engine.begin() as connection:
        connection.execute(
            insert(Series),
            [{"id": n, "name": f"S{n}", "lat": "51.0"} for n in range(first, first + count)],
        )
        connection.execute(
            insert(Occurrence),
            [
                {"id": n, "series_id": n, "name": "x" * 200, "start": FUTURE}
                for n in range(first, first + count)
            ],
        )
    rpde = app.extensions["rpde_publisher"]
    feed = rpde.feeds.get("scheduled-sessions")
    with engine.connect() as connection:
        figures, peak = _traced_peak(
            lambda: feed_figures(
                connection, feed, feeds=list(rpde.feeds), feed_url="u", checker=small_checker
            )
        )
    return figures["items"], peak


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # measured once, on SQLite
def test_figures_run_in_bounded_memory(app: Flask, engine: Engine) -> None:
    items, small = _peak_figures(app, engine, 100, 2_000)
    assert items == 2_002
    items, large = _peak_figures(app, engine, 100_000, 20_000)
    assert items == 22_002
    # Children and their parents held whole would take tens of MB: bounded by a batch.
    assert large < 2 * small + 500_000, (small, large)
    assert large < 8_000_000


def _peak_streaming(app: Flask, engine: Engine, first: int, count: int) -> tuple[int, int]:
    with engine.begin() as connection:
        connection.execute(
            insert(Series),
            [
                {"id": n, "name": f"Series {n}", "description": "x" * 200}
                for n in range(first, first + count)
            ],
        )
    feed = app.extensions["rpde_publisher"].feeds.get("session-series")
    with engine.connect() as connection:
        return _traced_peak(lambda: sum(1 for _ in iter_items(connection, feed)))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # measured once, on SQLite
def test_streaming_runs_in_bounded_memory(app: Flask, engine: Engine) -> None:
    streamed, small = _peak_streaming(app, engine, 100, 2_000)
    assert streamed == 2_004
    streamed, large = _peak_streaming(app, engine, 100_000, 20_000)
    assert streamed == 22_004
    # Holding 20,000 items' data (about 300 bytes of JSON each, as dicts several times
    # that) would take well over 10 MB; a bounded stream stays near the small run's peak.
    assert large < 2 * small + 500_000, (small, large)
    assert large < 5_000_000
