"""Adding a session to a series holding many sessions, against adding one to an empty series."""

from __future__ import annotations

import itertools
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import time as time_of_day
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from .apps import bench_app
from .seeding import EPOCH
from .timing import interleaved

#: Calls of each candidate before timing (each empty-series add needs a series of its own).
WARMUP = 2


@dataclass
class CrowdedFigures:
    """One session added to a series and committed, linked through ``session.series``."""

    #: Sessions the crowded series held before the first add.
    crowd: int
    #: Median milliseconds of an add to the crowded series, and to an empty one.
    crowded_ms: float = 0.0
    empty_ms: float = 0.0
    spread: float = 0.0
    #: Sessions of the crowded series that one add moved (1: the new one alone).
    moved: int = 0
    #: Statements one add sent, to the crowded series and to an empty one.
    statements: dict[str, int] = field(default_factory=dict)


def measure_crowded(url: str, *, crowd: int, repeats: int) -> CrowdedFigures:
    """Seed a series with ``crowd`` sessions, then time adds to it against adds to series
    holding none (a new one for each add), taking turns."""
    app = bench_app(url)
    figures = CrowdedFigures(crowd=crowd)
    with app.app_context():
        from example_app.models import db
        from example_app.models import ScheduledSession
        from example_app.models import SessionSeries

        crowded_id, empty_ids = _seed(db.session, crowd, empties=repeats + WARMUP + 1)
        db.session.remove()
        engine = db.engine
        number = itertools.count(crowd)

        def add(series_ids: Iterator[int]) -> Callable[[], None]:
            def write() -> None:
                begins = EPOCH + timedelta(days=next(number))
                with Session(engine) as session:
                    # As the adopting app does: the relationship, whose backref
                    # (series.sessions) the ORM then counts as a change of the series.
                    series = session.get(SessionSeries, next(series_ids))
                    session.add(
                        ScheduledSession(
                            series=series,
                            start=begins,
                            end=begins + timedelta(minutes=45),
                            maximum_capacity=20,
                            remaining_capacity=20,
                        )
                    )
                    session.commit()

            return write

        crowded = add(itertools.repeat(crowded_id))
        empty = add(iter(empty_ids))
        with engine.connect() as connection:
            latest = select(func.max(ScheduledSession.modified)).where(
                ScheduledSession.series_id == crowded_id
            )
            before = connection.execute(latest).scalar()
        figures.statements["crowded"] = _statements(engine, crowded)
        figures.statements["empty"] = _statements(engine, empty)
        with engine.connect() as connection:
            figures.moved = int(
                connection.execute(
                    select(func.count()).where(
                        ScheduledSession.series_id == crowded_id,
                        ScheduledSession.modified > (before or 0),
                    )
                ).scalar_one()
            )
        samples = interleaved({"crowded": crowded, "empty": empty}, repeats=repeats, warmup=WARMUP)
        engine.dispose()
    figures.crowded_ms = samples.median("crowded") * 1000
    figures.empty_ms = samples.median("empty") * 1000
    figures.spread = max(samples.spread("crowded"), samples.spread("empty"))
    return figures


def _seed(session: t.Any, crowd: int, *, empties: int) -> tuple[int, list[int]]:
    """A series holding ``crowd`` sessions and ``empties`` series holding none."""
    from example_app.models import Activity
    from example_app.models import Organisation
    from example_app.models import Place
    from example_app.models import ScheduledSession
    from example_app.models import SessionSeries

    organisation = session.scalars(
        select(Organisation).where(Organisation.publishes_open_data.is_(True)).limit(1)
    ).one()
    place = session.scalars(select(Place).order_by(Place.id).limit(1)).one()
    activity_id = session.scalar(select(Activity.id).order_by(Activity.id).limit(1))

    def series(name: str) -> t.Any:
        return SessionSeries(
            name=name,
            description="Crowded-series benchmark.",
            organisation=organisation,
            place=place,
            activity_id=activity_id,
            duration_minutes=45,
            weekday=2,
            start_time=time_of_day(9, 0),
        )

    crowded = series("Crowded")
    empty = [series(f"Empty {number + 1}") for number in range(empties)]
    session.add_all([crowded, *empty])
    session.commit()
    rows = [
        {
            "series_id": crowded.id,
            "start": EPOCH + timedelta(days=day),
            "end": EPOCH + timedelta(days=day, minutes=45),
            "maximum_capacity": 20,
            "remaining_capacity": 20,
        }
        for day in range(crowd)
    ]
    session.execute(insert(ScheduledSession), rows)
    session.commit()  # rendered here, as any bulk insert is
    return crowded.id, [item.id for item in empty]


def _statements(engine: t.Any, call: Callable[[], None]) -> int:
    """How many statements ``call`` sends."""
    seen = [0]

    def count(*args: t.Any) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen[0]
