"""Editing a place embedded in many session series: statements counted, time measured."""

from __future__ import annotations

import statistics
import time
import typing as t
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import time as time_of_day
from decimal import Decimal

from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from .apps import bench_app
from .seeding import EMBEDDING_PLACE


@dataclass
class EmbeddedFigures:
    """One edit of a place's name, committed, for each number of embedding series."""

    #: series -> statements sent to the database for the whole edit and commit
    statements: dict[int, int] = field(default_factory=dict)
    #: series -> parameter sets (rows) the statements carried, summed
    parameter_sets: dict[int, int] = field(default_factory=dict)
    #: series -> statements by their first words, e.g. "UPDATE session_series"
    kinds: dict[int, dict[str, int]] = field(default_factory=dict)
    #: series -> series whose stored data changed
    rerendered: dict[int, int] = field(default_factory=dict)
    #: series -> median milliseconds of the edit
    milliseconds: dict[int, float] = field(default_factory=dict)


def _kind(statement: str) -> str:
    words = statement.split()
    if words[0].upper() == "SELECT":
        table = words[words.index("FROM") + 1] if "FROM" in words else "?"
        return f"SELECT ... FROM {table}"
    return " ".join(words[:2]) if words[0].upper() != "UPDATE" else f"UPDATE {words[1]}"


def measure_embedded(url: str, counts: t.Sequence[int], *, repeats: int) -> EmbeddedFigures:
    """Rename a place embedded in ``count`` series, for each count; series are added here."""
    app = bench_app(url)
    figures = EmbeddedFigures()
    with app.app_context():
        from example_app.models import Activity
        from example_app.models import db
        from example_app.models import Offer
        from example_app.models import Organisation
        from example_app.models import Place
        from example_app.models import SessionSeries

        session = db.session
        hall = session.scalars(select(Place).where(Place.name == EMBEDDING_PLACE)).one()
        organisation = session.scalars(select(Organisation).limit(1)).one()
        activity_id = session.scalar(select(Activity.id).order_by(Activity.id).limit(1))
        hall_start_time = time_of_day(18, 0)
        places = {}
        for count in counts:
            place = Place(
                name=f"Hall for {count}",
                street_address=hall.street_address,
                locality=hall.locality,
                region=hall.region,
                postcode=hall.postcode,
                latitude=hall.latitude,
                longitude=hall.longitude,
            )
            session.add(place)
            for number in range(count):
                session.add(
                    SessionSeries(
                        name=f"Pilates {number + 1}",
                        description="Embedding benchmark.",
                        organisation=organisation,
                        place=place,
                        activity_id=activity_id,
                        duration_minutes=45,
                        weekday=number % 7,
                        start_time=hall_start_time,
                        offers=[Offer(name="Adult", price=Decimal("5.00"))],
                    )
                )
            places[count] = place
        session.commit()
        place_ids = {count: place.id for count, place in places.items()}
        session.remove()

        seen: list[tuple[str, int]] = []

        def record(
            conn: t.Any,
            cursor: t.Any,
            statement: str,
            parameters: t.Any,
            context: t.Any,
            many: bool,
        ) -> None:
            seen.append((statement, len(parameters) if many else 1))

        engine = db.engine
        for count in counts:
            times = []
            for attempt in range(repeats + 1):
                place = session.get(Place, place_ids[count])
                assert place is not None
                before = session.scalar(
                    select(func.max(SessionSeries.modified)).where(
                        SessionSeries.place_id == place.id
                    )
                )
                seen.clear()
                event.listen(engine, "before_cursor_execute", record)
                began = time.perf_counter()
                place.name = f"Hall for {count}, edit {attempt}"
                session.commit()
                elapsed = time.perf_counter() - began
                event.remove(engine, "before_cursor_execute", record)
                if attempt == 0:  # counted once; timed on the rest
                    figures.statements[count] = len(seen)
                    figures.parameter_sets[count] = sum(n for _, n in seen)
                    figures.kinds[count] = dict(Counter(_kind(s) for s, _ in seen))
                    figures.rerendered[count] = (
                        session.scalar(
                            select(func.count())
                            .select_from(SessionSeries)
                            .where(
                                SessionSeries.place_id == place_ids[count],
                                SessionSeries.modified > (before or 0),
                                SessionSeries.rpde_data.contains(f"edit {attempt}"),
                            )
                        )
                        or 0
                    )
                else:
                    times.append(elapsed)
                session.remove()
            figures.milliseconds[count] = statistics.median(times) * 1000
        engine.dispose()
    return figures
