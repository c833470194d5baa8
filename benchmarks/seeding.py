"""Seed the example app's models at benchmark scale in minutes, not hours.

Small tables (organisations, places, activities, facility uses, session series) go
through the ORM, so change tracking stamps and renders them as in production. Slots,
the million-row table, go in as bulk Core inserts in batches: the database's triggers
stamp ``modified`` as usual, and each row's ``rpde_data`` is rendered beforehand by the
feed's own :class:`~rpde_publisher.rendering.Renderer` from a transient ``Slot``, so it
is exactly what the ORM path stores (``tests/test_benchmarks.py`` proves it byte for byte).
"""

from __future__ import annotations

import random
import sys
import time
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as time_of_day
from datetime import timedelta
from datetime import UTC
from decimal import Decimal

from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from .apps import bench_app
from .apps import FEED_NAME

#: The place whose edit moves every session series (the "embedded in 1,000 sessions" row).
EMBEDDING_PLACE = "Bench Hall"
SLOT_PRICES = ["8.00", "10.50", "12.00"]
#: Every benchmark facility's minimum age (its slots' offers show it).
FACILITY_MINIMUM_AGE = 14
#: Written last by :func:`seed`; its version is the data's layout: --reuse seeds a
#: database of an older layout again.
_INFO = "rpde_bench_seeding_3"
#: Slots start here, so every run renders the same bytes.
EPOCH = datetime(2030, 1, 7, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SeedSize:
    """How much to create."""

    slots: int = 1_000_000
    facility_uses: int = 200
    #: Session series at :data:`EMBEDDING_PLACE`, each with two offers.
    embedding_series: int = 1_000
    #: Slots per seeding transaction. On PostgreSQL every row of a transaction shares
    #: its ``modified`` (the transaction id), so this is also the size of a tie group.
    transaction_rows: int = 10_000


Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(url: str, size: SeedSize, *, progress: Progress = _stderr) -> float:
    """Create the example app's tables on ``url`` and fill them; returns seconds taken."""
    began = time.perf_counter()
    app = bench_app(url)
    with app.app_context():
        from example_app.models import db

        facility_ids = _seed_small_tables(db.session, size)
        db.session.commit()
        progress(f"  small tables seeded ({time.perf_counter() - began:.1f}s)")
        renderer = _slot_renderer()
        engine = _loading_engine(url)
        try:
            written = 0
            for batch in slot_batches(size, facility_ids, renderer):
                with engine.begin() as connection:
                    from example_app.models import Slot

                    connection.execute(insert(Slot.__table__), batch)
                written += len(batch)
                if written % (size.transaction_rows * 10) == 0 or written == size.slots:
                    progress(f"  {written:,} slots ({time.perf_counter() - began:.0f}s)")
            _finish(engine)
            seconds = time.perf_counter() - began
            with engine.begin() as connection:  # read back by a later --reuse run
                connection.exec_driver_sql(f"CREATE TABLE {_INFO} (seconds FLOAT NOT NULL)")
                connection.exec_driver_sql(f"INSERT INTO {_INFO} VALUES ({seconds:.3f})")
        finally:
            engine.dispose()
        db.session.remove()
        db.engine.dispose()
    return seconds


def seeding_seconds(url: str) -> float | None:
    """How long seeding the database at ``url`` took, if this module seeded it."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return float(connection.exec_driver_sql(f"SELECT seconds FROM {_INFO}").scalar_one())
    except Exception:
        return None
    finally:
        engine.dispose()


def _seed_small_tables(session: t.Any, size: SeedSize) -> list[int]:
    from example_app.models import Activity
    from example_app.models import FacilityType
    from example_app.models import FacilityUse
    from example_app.models import Offer
    from example_app.models import Organisation
    from example_app.models import Place
    from example_app.models import SessionSeries
    from example_app.seed import FACILITY_ACTIVITIES
    from example_app.seed import SeedPlan
    from example_app.seed import SeedSize as ExampleSize

    # The example app's own organisations, places and activities, then our shapes.
    plan = SeedPlan(ExampleSize(), now=EPOCH)
    activities = {row["pref_label"]: Activity(**row) for row in plan.activities()}
    facility_types = {row["pref_label"]: FacilityType(**row) for row in plan.facility_types()}
    # Without the plan's ids, so that PostgreSQL's sequences hand out the rest.
    organisations = [Organisation(**_without_id(row)) for row in plan.organisations()]
    places = [Place(**_without_id(row)) for row in plan.places()]
    session.add_all([*activities.values(), *facility_types.values()])
    hall = Place(
        name=EMBEDDING_PLACE,
        street_address="1 Benchmark Way",
        locality="Bristol",
        region="City of Bristol",
        postcode="BS1 1AA",
        latitude=Decimal("51.4545"),
        longitude=Decimal("-2.5879"),
    )
    session.add_all([*organisations, *places, hall])
    # Facilities take the organisations in turn, the opted-out one second. Slots go in
    # facility by facility, so the feed's first page, its page at depth 900,000 and its
    # last page hold live items (the pages those rows compare), and the second
    # facility's slots make a block of tombstones, measured on their own.
    publishing = [o for o in organisations if o.publishes_open_data]
    opted_out = [o for o in organisations if not o.publishes_open_data]
    turns = publishing[:1] + opted_out + publishing[1:]
    facilities = []
    for number in range(size.facility_uses):
        label, unit = FACILITY_ACTIVITIES[number % len(FACILITY_ACTIVITIES)]
        facilities.append(
            FacilityUse(
                name=f"{label} {unit} {number + 1}",
                organisation=turns[number % len(turns)],
                place=places[number % len(places)],
                facility_type=facility_types[f"{label} {unit.title()}"],
                price=Decimal("10.50"),
                minimum_age=FACILITY_MINIMUM_AGE,
            )
        )
    session.add_all(facilities)
    yoga = activities["Yoga"]
    for number in range(size.embedding_series):
        session.add(
            SessionSeries(
                name=f"Yoga at the hall {number + 1}",
                description="A benchmark session series.",
                organisation=organisations[0],
                place=hall,
                activity=yoga,
                duration_minutes=60,
                weekday=number % 7,
                start_time=time_of_day(18, 0),
                offers=[
                    Offer(name="Adult", price=Decimal("6.00")),
                    Offer(name="Junior", price=Decimal("3.00")),
                ],
            )
        )
    session.flush()
    return [facility.id for facility in facilities]


def _without_id(row: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: value for key, value in row.items() if key != "id"}


def _slot_renderer() -> t.Any:
    from example_app.feeds import rpde

    feed = rpde.feeds.get(FEED_NAME)
    assert feed is not None
    return feed.renderer


def slot_batches(
    size: SeedSize, facility_ids: list[int], renderer: t.Any, *, first_id: int = 1
) -> Iterator[list[dict[str, t.Any]]]:
    """Slot rows with their rendered ``data``, ``size.transaction_rows`` at a time."""
    from example_app.models import FacilityUse
    from example_app.models import Slot

    # What a slot's data shows of its facility, without loading it or touching a session.
    facilities = {
        id_: FacilityUse(id=id_, minimum_age=FACILITY_MINIMUM_AGE) for id_ in facility_ids
    }
    rng = random.Random(8)
    per_facility = -(-size.slots // len(facility_ids))
    batch: list[dict[str, t.Any]] = []
    for offset in range(size.slots):
        facility, position = divmod(offset, per_facility)
        day, period = divmod(position, 22)  # 22 forty-minute slots a day from 07:00
        start = EPOCH + timedelta(days=day, minutes=40 * period)
        row = {
            "id": first_id + offset,
            "facility_use_id": facility_ids[facility],
            "start": start,
            "end": start + timedelta(minutes=40),
            "maximum_uses": 1,
            "remaining_uses": rng.choice((0, 1, 1)),
            "price": Decimal(rng.choice(SLOT_PRICES)),
        }
        # The feed's own renderer, on the object the ORM would load: the same bytes.
        slot = Slot(**row)
        set_committed_value(slot, "facility_use", facilities[row["facility_use_id"]])
        row["rpde_data"] = renderer.dumps(slot)
        row["deleted"] = None
        batch.append(row)
        if len(batch) == size.transaction_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _loading_engine(url: str) -> t.Any:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: t.Any, record: t.Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")  # a lost seed is simply seeded again
            cursor.close()

    return engine


def _finish(engine: t.Any) -> None:
    """Statistics (and PostgreSQL's visibility map) up to date before anything is timed."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('slot', 'id'), (SELECT max(id) FROM slot))"
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def slot_count(url: str) -> int:
    """How many slots ``url`` holds (0 if it has no slot table)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            from example_app.models import Slot

            return int(
                connection.execute(select(Slot.id).order_by(Slot.id.desc()).limit(1)).scalar() or 0
            )
    except Exception:
        return 0
    finally:
        engine.dispose()
