"""A soak harness: concurrent writers in random transactions, a consumer harvesting throughout."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import typing as t
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

#: How long writers run; RPDE_SOAK_SECONDS runs the soak longer on demand.
SOAK_SECONDS = float(os.environ.get("RPDE_SOAK_SECONDS", "0") or 0)

#: A page reader: the cursor (None at the start) -> (items, next cursor, is last page).
ReadPage = Callable[[t.Any], tuple[list[dict[str, t.Any]], t.Any, bool]]


@dataclass
class SoakReport:
    seconds: float
    operations: Counter[str] = field(default_factory=Counter)
    pages_read: int = 0
    items_read: int = 0
    live_rows: int = 0
    missing: list[t.Any] = field(default_factory=list)  # live in the database, not in the copy
    stale: list[t.Any] = field(default_factory=list)  # in the copy with other data
    extra: list[t.Any] = field(default_factory=list)  # in the copy, gone from the database

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.stale) + len(self.extra)

    def summary(self) -> str:
        ops = ", ".join(f"{k}={v}" for k, v in sorted(self.operations.items()))
        return (
            f"{self.seconds:.0f}s; operations: {ops}; consumer read {self.pages_read} pages,"
            f" {self.items_read} items; checked {self.live_rows} live rows: {len(self.missing)}"
            f" missing, {len(self.stale)} stale, {len(self.extra)} deleted but kept"
        )

    def write(self, name: str) -> None:
        from .conftest import OUTPUT

        OUTPUT.mkdir(exist_ok=True)
        record = {"summary": self.summary(), "lost": self.lost, "operations": dict(self.operations)}
        (OUTPUT / f"soak-{name}.json").write_text(json.dumps(record, indent=2) + "\n")


@dataclass
class Writers:
    """Writer threads making random changes in transactions of random length."""

    engine: Engine
    model: type[t.Any]
    count: int = 8
    max_transaction_seconds: float = 0.3
    rollback_share: float = 0.1
    #: Called with (session, obj) to stamp a row; None leaves stamping to the database.
    stamp: Callable[[Session, t.Any], None] | None = None
    #: A model the items embed (``model.place``): its rows are renamed now and then, which
    #: moves and re-renders every item holding them, racing the edits of those items (some
    #: of which move an item to another place).
    places: type[t.Any] | None = None
    operations: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_for(self, seconds: float) -> None:
        threads = [
            threading.Thread(target=self._write, args=(random.Random(seed),))
            for seed in range(self.count)
        ]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        self._stop.set()
        for thread in threads:
            thread.join()

    def _count(self, name: str) -> None:
        with self._lock:
            self.operations[name] += 1

    def _write(self, rng: random.Random) -> None:
        while not self._stop.is_set():
            with Session(self.engine) as session:
                try:
                    self._transaction(session, rng)
                except DBAPIError:  # deadlock, serialization or lock error: a rollback
                    session.rollback()
                    self._count("failed")

    def _transaction(self, session: Session, rng: random.Random) -> None:
        model = self.model
        ids = [row[0] for row in session.query(model.id).filter(model.deleted.is_(None)).all()]
        place_ids = [row[0] for row in session.query(self.places.id)] if self.places else []
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            if place_ids and action < 0.1:
                place = session.get(self.places, rng.choice(place_ids))
                place.name = f"place {rng.random():.6f}"
                session.flush()
                self._count("place rename")
                continue
            if action < 0.45 or len(ids) < 5:
                obj = model(name=f"new {rng.random():.6f}")
                if place_ids:
                    obj.place_id = rng.choice(place_ids)
                session.add(obj)
                name = "insert"
            elif action < 0.85:
                obj = session.get(model, rng.choice(ids))
                if obj is None or obj.deleted is not None:
                    continue
                obj.name = f"edit {rng.random():.6f}"
                name = "update"
                if place_ids and rng.random() < 0.3:  # moved to another place
                    obj.place_id = rng.choice(place_ids)
                    name = "move"
            else:
                obj = session.get(model, rng.choice(ids))
                if obj is None or obj.deleted is not None:
                    continue
                session.delete(obj)
                name = "delete"
            if self.stamp is not None:
                self.stamp(session, obj)
            session.flush()  # the change (and any stamp) is made now, inside the transaction
            self._count(name)
        time.sleep(rng.uniform(0, self.max_transaction_seconds))
        if rng.random() < self.rollback_share:
            session.rollback()
            self._count("rollback")
        else:
            session.commit()
            self._count("commit")


@dataclass
class Consumer:
    """Harvests by the RPDE rules: follow next, upsert by id, drop on tombstone, poll the end."""

    read_page: ReadPage
    poll_seconds: float = 0.05
    copy: dict[t.Any, t.Any] = field(default_factory=dict)
    cursor: t.Any = None
    pages: int = 0
    items: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.step():
                    time.sleep(self.poll_seconds)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def step(self) -> bool:
        """Read one page; return whether it was the last page."""
        items, next_cursor, is_last = self.read_page(self.cursor)
        self.pages += 1
        self.items += len(items)
        for item in items:
            if item["state"] == "updated":
                self.copy[item["id"]] = item["data"]
            else:
                self.copy.pop(item["id"], None)
        self.cursor = next_cursor
        return is_last

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        if self.error is not None:
            raise self.error

    def catch_up(self, settle_seconds: float = 0.0) -> None:
        """After the writers stop: read until a last page seen after everything settled."""
        time.sleep(settle_seconds)
        for _ in range(100_000):
            if self.step():
                return
        raise AssertionError("the consumer never reached the last page")


def compare(copy: dict[t.Any, t.Any], database: dict[t.Any, t.Any], report: SoakReport) -> None:
    report.live_rows = len(database)
    report.missing = sorted(set(database) - set(copy))
    report.extra = sorted(set(copy) - set(database))
    report.stale = sorted(id_ for id_ in set(copy) & set(database) if copy[id_] != database[id_])


def soak_seconds(default: float) -> float:
    return SOAK_SECONDS or default
