"""The load test's writes: booking-system changes on the example app's database.

ISOLATED ON PURPOSE: this stands in for ``flask demo simulate`` (being built on the
example-app branch). When that lands, :func:`writer_command` in ``loadtest/run.py`` is
the one place to switch: run ``flask --app example_app demo simulate`` for the same
number of seconds instead of ``python -m loadtest.writer``.

Several threads make changes in transactions of random length, so commits interleave the
way they do in production: bookings (remaining capacity), edits, cancellations, new
sessions, deletions, and now and then an organisation opting out of open data and back
in (which moves every one of its items in every feed).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import typing as t
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from example_app import create_app
from example_app.models import db
from example_app.models import Organisation
from example_app.models import ScheduledSession
from example_app.models import SessionSeries
from example_app.models import Slot


def write_changes(
    database_url: str, seconds: float, threads: int = 4, max_transaction_seconds: float = 0.2
) -> Counter[str]:
    """Change the example app's data from ``threads`` threads for ``seconds``; count what."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EXAMPLE_AUTO_SEED": False})
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def count(name: str) -> None:
        with lock:
            counts[name] += 1

    def run(seed: int) -> None:
        rng = random.Random(seed)
        with app.app_context():
            engine = db.engine
        while time.monotonic() < deadline:
            with Session(engine) as session:
                try:
                    name = _one_change(session, rng, seed == 0)
                    time.sleep(rng.uniform(0, max_transaction_seconds))
                    session.commit()
                    count(name)
                except DBAPIError:  # a deadlock or serialization failure: rolled back
                    session.rollback()
                    count("failed")
            time.sleep(rng.uniform(0, 0.05))

    workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with app.app_context():
        db.engine.dispose()
    return counts


def _one_change(session: Session, rng: random.Random, may_opt_out: bool) -> str:
    roll = rng.random()
    if may_opt_out and roll < 0.01:
        organisation = session.get(Organisation, rng.choice([2, 3]))
        assert organisation is not None
        organisation.publishes_open_data = not organisation.publishes_open_data
        return "opt-out toggled"
    if roll < 0.35:
        slot = _random(session, Slot, rng)
        slot.remaining_uses = rng.choice([0, 1])
        return "slot booked"
    if roll < 0.65:
        scheduled = _random(session, ScheduledSession, rng)
        scheduled.remaining_capacity = rng.randint(0, scheduled.maximum_capacity)
        return "session booked"
    if roll < 0.72:
        scheduled = _random(session, ScheduledSession, rng)
        scheduled.cancelled = not scheduled.cancelled
        return "session cancelled"
    if roll < 0.80:
        series = _random(session, SessionSeries, rng)
        series.description = f"Updated at {time.time():.3f}."
        return "series edited"
    if roll < 0.90:
        model = rng.choice([ScheduledSession, Slot])
        session.delete(_random(session, model, rng))
        return "deleted"
    template = _random(session, ScheduledSession, rng)
    start = template.start + timedelta(weeks=rng.randint(10, 20))
    session.add(
        ScheduledSession(
            series_id=template.series_id,
            start=start,
            end=start + template.duration,
            maximum_capacity=template.maximum_capacity,
            remaining_capacity=template.maximum_capacity,
        )
    )
    return "session added"


def _random(session: Session, model: t.Any, rng: random.Random) -> t.Any:
    ids = session.scalars(select(model.id).where(model.deleted.is_(None))).all()
    return session.get(model, rng.choice(ids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    counts = write_changes(args.database_url, args.seconds, args.threads)
    print(json.dumps(dict(counts)))


if __name__ == "__main__":
    main()
