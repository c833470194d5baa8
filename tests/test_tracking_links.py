"""Linking rows through relationships moves exactly the items whose data changes, no more."""

from __future__ import annotations

import json
import typing as t

import pytest
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.registry import rules_for

from .event_models import EventModels
from .event_models import make_event_models
from .event_models import register_event_feed


@pytest.fixture
def models() -> EventModels:
    return make_event_models()


@pytest.fixture(params=["commit", "read"])
def rpde(request: pytest.FixtureRequest, models: EventModels) -> RPDE:
    """Every test here runs with the data rendered at commit and on read."""
    extension = RPDE()
    register_event_feed(extension, models, render_at=request.param)
    return extension


@pytest.fixture
def session(tables: Engine) -> t.Iterator[Session]:
    with Session(tables) as s:
        yield s


@pytest.fixture
def town(session: Session, models: EventModels) -> dict[str, t.Any]:
    """Three events at the hall, one at the park, two genres, two types, one amenity."""
    m = models
    hall, park = m.Venue(name="Hall"), m.Venue(name="Park")
    jazz, folk = m.Genre(name="Jazz"), m.Genre(name="Folk")
    gig, talk = m.EventType(name="Gig"), m.EventType(name="Talk")
    bar = m.Amenity(name="Bar")
    events = [
        m.Event(name="a", venue=hall, event_type=gig, genres=[jazz]),
        m.Event(name="b", venue=hall, event_type=gig, genres=[jazz, folk]),
        m.Event(name="c", venue=hall, event_type=talk),
        m.Event(name="d", venue=park, event_type=gig, genres=[jazz]),
    ]
    session.add_all([*events, bar])
    session.commit()
    names = {"hall": hall, "park": park, "jazz": jazz, "folk": folk, "gig": gig}
    names.update({"talk": talk, "bar": bar}, **{e.name: e for e in events})
    return names


class Stamps:
    """Each event's ``modified``, to tell which events a commit moved."""

    def __init__(self, session: Session, model: t.Any) -> None:
        self.session, self.model = session, model
        self.before = self.read()

    def read(self) -> dict[int, int]:
        self.session.expire_all()
        return dict(self.session.execute(select(self.model.name, self.model.modified)).all())

    def moved(self) -> set[str]:
        """The names of the events whose stamp changed since the last call."""
        after = self.read()
        moved = {name for name, stamp in after.items() if stamp != self.before.get(name)}
        self.before = after
        return moved


def data(session: Session, models: EventModels, name: str) -> dict[str, t.Any]:
    """The event's data as its feed publishes it (rendering on read: rendered now)."""
    session.expire_all()
    event_ = session.scalars(select(models.Event).where(models.Event.name == name)).one()
    rules = rules_for(models.Event.__table__)
    assert rules is not None and rules.renderer is not None
    if rules.render_at == "commit":
        return t.cast(dict[str, t.Any], json.loads(event_.rpde_data))
    assert event_.rpde_data is None, "a write cleared the stored data"
    rendered = rules.renderer.render(session.connection(), [event_.id])[event_.id]
    return t.cast(dict[str, t.Any], json.loads(rendered))


class Locks:
    """The row locks statements take from now on."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self.record)

    def record(self, conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def of_events(self) -> list[str]:
        """Statements locking event rows ``FOR UPDATE``."""
        return [s for s in self.statements if "FOR UPDATE" in s and "FROM event" in s]

    def shared_on(self, table: str) -> bool:
        """Whether a statement locked rows of ``table`` for share."""
        return any(
            ("FOR SHARE" in s or "LOCK IN SHARE MODE" in s) and f"JOIN {table}" in s
            for s in self.statements
        )


def test_linking_through_a_many_to_one_with_a_backref_moves_only_that_event(
    session: Session, models: EventModels, town: dict[str, t.Any], tables: Engine
) -> None:
    stamps = Stamps(session, models.Event)
    locks = Locks(tables)
    session.add(models.Event(name="new", venue=town["hall"], event_type=town["gig"]))
    session.commit()
    assert stamps.moved() == {"new"}, "the hall's and the gigs' other events stay put"
    assert locks.of_events() == [], "no other event is locked"
    if tables.dialect.name != "sqlite":  # a rename of the hall cannot slip past the render
        assert locks.shared_on("venue"), locks.statements
    assert data(session, models, "new")["venue"]["name"] == "Hall"

    town["a"].venue = town["park"]  # a many-to-one moved: only that event changes
    town["b"].event_type = town["talk"]
    session.commit()
    assert stamps.moved() == {"a", "b"}
    assert data(session, models, "a")["venue"]["name"] == "Park"
    assert data(session, models, "b")["event_type"] == {"name": "Talk"}


def test_linking_through_the_foreign_key_column_moves_only_that_event(
    session: Session, models: EventModels, town: dict[str, t.Any]
) -> None:
    stamps = Stamps(session, models.Event)
    session.add(models.Event(name="new", venue_id=town["hall"].id))
    session.commit()
    assert stamps.moved() == {"new"}
    town["c"].venue_id = town["park"].id
    session.commit()
    assert stamps.moved() == {"c"}
    assert data(session, models, "c")["venue"]["name"] == "Park"


def test_appending_to_the_venues_collection_moves_only_the_event_it_links(
    session: Session, models: EventModels, town: dict[str, t.Any], tables: Engine
) -> None:
    stamps = Stamps(session, models.Event)
    locks = Locks(tables)
    town["hall"].events.append(models.Event(name="new"))
    session.commit()
    assert stamps.moved() == {"new"}
    assert locks.of_events() == []
    assert data(session, models, "new")["venue"]["name"] == "Hall"
    town["park"].events.append(town["c"])  # moved from the hall
    session.commit()
    assert stamps.moved() == {"c"}
    assert data(session, models, "c")["venue"]["name"] == "Park"


def test_many_to_many_append_and_remove_move_only_that_event(
    session: Session, models: EventModels, town: dict[str, t.Any]
) -> None:
    stamps = Stamps(session, models.Event)
    town["c"].genres.append(town["jazz"])  # jazz already holds a, b and d
    session.commit()
    assert stamps.moved() == {"c"}, "the event moves; jazz's other events stay put"
    assert data(session, models, "c")["genres"] == [{"name": "Jazz"}]

    town["b"].genres.remove(town["jazz"])
    session.commit()
    assert stamps.moved() == {"b"}
    assert data(session, models, "b")["genres"] == [{"name": "Folk"}]

    town["folk"].events.append(town["d"])  # from the genre's side, through the backref
    session.commit()
    assert stamps.moved() == {"d"}
    assert data(session, models, "d")["genres"] == [{"name": "Jazz"}, {"name": "Folk"}]

    town["folk"].events.remove(town["b"])
    session.commit()
    assert stamps.moved() == {"b"}
    assert data(session, models, "b")["genres"] == []

    town["jazz"].name = "Free jazz"  # the genre's own row: every event in it moves
    session.commit()
    assert stamps.moved() == {"a", "c", "d"}
    assert data(session, models, "d")["genres"][0] == {"name": "Free jazz"}


def test_a_collection_on_the_embedded_path_moves_every_event_that_reaches_it(
    session: Session, models: EventModels, town: dict[str, t.Any]
) -> None:
    """``venue.amenities`` is embedded: a venue's amenities are part of its events' data."""
    stamps = Stamps(session, models.Event)
    town["hall"].amenities.append(town["bar"])
    session.commit()
    assert stamps.moved() == {"a", "b", "c"}, "the hall's events, not the park's"
    assert data(session, models, "a")["venue"]["amenities"] == [{"name": "Bar"}]

    town["bar"].venues.append(town["park"])  # from the amenity's side
    session.commit()
    assert stamps.moved() == {"d"}
    assert data(session, models, "d")["venue"]["amenities"] == [{"name": "Bar"}]


def test_a_one_to_many_child_moves_only_its_event(
    session: Session, models: EventModels, town: dict[str, t.Any]
) -> None:
    stamps = Stamps(session, models.Event)
    town["a"].tickets.append(models.Ticket(pence=500))
    session.commit()
    assert stamps.moved() == {"a"}
    ticket = town["a"].tickets[0]
    ticket.event = town["b"]  # from a to b: both change
    session.commit()
    assert stamps.moved() == {"a", "b"}
    assert data(session, models, "a")["tickets"] == []
    assert data(session, models, "b")["tickets"] == [{"pence": 500}]


def test_bulk_inserts_move_only_the_events_the_new_rows_link_to(
    session: Session, models: EventModels, town: dict[str, t.Any]
) -> None:
    stamps = Stamps(session, models.Event)
    session.execute(insert(models.Venue), [{"name": "Barn"}])
    session.execute(insert(models.Genre), [{"name": "Rock"}, {"name": "Pop"}])
    session.commit()
    assert stamps.moved() == set(), "no event can link to a row that did not exist"
    session.execute(insert(models.Ticket), [{"event_id": town["c"].id, "pence": 300}])
    session.commit()
    assert stamps.moved() == {"c"}
    assert data(session, models, "c")["tickets"] == [{"pence": 300}]
    session.execute(insert(models.Ticket).values(event_id=town["d"].id, pence=200))
    session.commit()
    assert "d" in stamps.moved(), "the link in the statement's VALUES, not read: any event"
