"""The no-skip guarantee, proven on real databases under concurrent writers.

Eight writer threads insert, update and delete rows in transactions of random length
(some rolled back) while a consumer harvests by the RPDE rules. When the writers stop
and the consumer reaches the last page, its copy must equal the database row for row.
The same soak against a naive feed (wall-clock ``modified`` stamped inside the
transaction, no watermark) loses items, which shows the hazard is real.
"""

from __future__ import annotations

import json
import time
import typing as t
from urllib.parse import urlsplit

import pytest
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import Session

from rpde_publisher import RPDE
from rpde_publisher.registry import rules_for

from .models import make_app
from .models import Models
from .models import register_feeds
from .servers import mysql_engine
from .soak import compare
from .soak import Consumer
from .soak import soak_seconds
from .soak import SoakReport
from .soak import Writers
from .walking import settle as wait_until_visible

pytestmark = pytest.mark.slow


def http_reader(client: t.Any, feed_path: str) -> t.Callable[[t.Any], t.Any]:
    """Read pages through the app, as a consumer over HTTP would."""

    def read(cursor: t.Any) -> tuple[list[dict[str, t.Any]], t.Any, bool]:
        url = cursor or f"http://localhost{feed_path}"
        parts = urlsplit(url)
        response = client.get(parts.path + ("?" + parts.query if parts.query else ""))
        assert response.status_code == 200, response.data[:300]
        body = response.get_json()
        return body["items"], body["next"], not body["items"] and body["next"] == url

    return read


def database_copy(engine: Engine, models: Models) -> dict[t.Any, t.Any]:
    """The live items' data as rendering the rows gives it now, checked equal to any data
    stored (stored data older than its row, or than a place it embeds, is a stale copy).
    Rendering at commit, every live row has stored data; on read, those a read stored."""
    with Session(engine) as session:
        rows = session.execute(
            select(models.Series.id, models.Series.rpde_data).where(models.Series.deleted.is_(None))
        ).all()
    rules = rules_for(models.Series.__table__)
    assert rules is not None and rules.renderer is not None
    if rules.render_at == "commit":
        assert all(data is not None for _, data in rows), "every live row has rendered data"
    stored = {id_: json.loads(data) for id_, data in rows if data is not None}
    assert stored or not rows, "reads stored what they rendered"
    with engine.connect() as connection:
        fresh = {
            id_: json.loads(data)
            for id_, data in rules.renderer.render(connection, [id_ for id_, _ in rows]).items()
        }
    stale = sorted(id_ for id_ in stored if stored[id_] != fresh.get(id_))
    assert not stale, f"{len(stale)} items store data older than their rows: {stale[:10]}"
    return fresh


def run_soak(
    engine: Engine,
    models: Models,
    rpde: RPDE,
    name: str,
    seconds: float,
    settle: float,
    *,
    embedded: bool = False,
) -> SoakReport:
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    app = make_app(engine, rpde, RPDE_SETTLE_SECONDS=settle)
    consumer = Consumer(http_reader(app.test_client(), "/openactive/feeds/session-series"))
    if embedded:  # places the items embed, renamed as the soak runs
        with Session(engine) as session:
            session.add_all([models.Place(name=f"place {n}") for n in range(5)])
            session.commit()
    writers = Writers(engine, models.Series, places=models.Place if embedded else None)
    consumer.start()
    writers.run_for(seconds)
    consumer.stop()
    wait_until_visible(engine)
    consumer.catch_up(settle_seconds=settle + 0.2)
    report = SoakReport(seconds, writers.operations, consumer.pages, consumer.items)
    compare(consumer.copy, database_copy(engine, models), report)
    report.write(name)
    print(report.summary())
    return report


def test_postgresql_soak_loses_nothing(pg_engine: Engine, models: Models, rpde: RPDE) -> None:
    report = run_soak(pg_engine, models, rpde, "postgresql", soak_seconds(30), settle=0)
    assert report.operations["commit"] > 50 and report.operations["rollback"] > 0
    assert report.operations["delete"] > 0 and report.live_rows > 50
    assert report.lost == 0, report.summary()


def test_sqlite_soak_loses_nothing(sqlite_engine: Engine, models: Models, rpde: RPDE) -> None:
    report = run_soak(sqlite_engine, models, rpde, "sqlite", soak_seconds(15), settle=0)
    assert report.operations["commit"] > 10
    assert report.lost == 0, report.summary()


@pytest.mark.parametrize("render_at", ["commit", "read"])
@pytest.mark.parametrize(
    ("db_engine", "seconds", "settle"),
    [("sqlite", 15, 0), ("postgresql", 30, 0), ("mysql", 15, 1.0)],
    indirect=["db_engine"],
)
def test_soak_with_embedded_places_keeps_no_stale_data(
    db_engine: Engine, models: Models, seconds: float, settle: float, render_at: str
) -> None:
    """Places renamed among the item edits: every item ends with its place's last name,
    rendered at commit or stored by the consumer's reads."""
    name = f"{db_engine.dialect.name}-embedded-{render_at}"
    rpde = RPDE()
    register_feeds(rpde, models, render_at=render_at)
    try:
        report = run_soak(
            db_engine, models, rpde, name, soak_seconds(seconds), settle, embedded=True
        )
    finally:
        models.Base.metadata.drop_all(db_engine)
    assert report.operations["place rename"] > 0
    assert report.lost == 0, report.summary()


def test_mariadb_soak_with_short_transactions_loses_nothing(
    mysql_url: str, models: Models, rpde: RPDE
) -> None:
    # Transactions (at most 0.3 s) stay well inside the settle lag: as safe as the lag.
    engine = mysql_engine(mysql_url)
    try:
        report = run_soak(engine, models, rpde, "mariadb", soak_seconds(15), settle=1.0)
    finally:
        models.Base.metadata.drop_all(engine)
        engine.dispose()
    assert report.operations["commit"] > 10
    assert report.lost == 0, report.summary()


# The naive publisher: `modified` from the application's wall clock, stamped inside the
# transaction, read with no watermark. This is what the guarantee protects against.


class NaiveBase(DeclarativeBase):
    pass


class NaiveItem(NaiveBase):
    __tablename__ = "naive_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    modified: Mapped[int] = mapped_column(BigInteger, index=True, default=0)
    deleted: Mapped[bool | None] = mapped_column(Boolean, default=None)


def naive_stamp(session: Session, obj: t.Any) -> None:
    obj.modified = time.time_ns() // 1000
    if obj in session.deleted:  # a naive tombstone: keep the row, flag it
        session.add(obj)
        obj.deleted = True


def naive_reader(engine: Engine) -> t.Callable[[t.Any], t.Any]:
    def read(cursor: t.Any) -> tuple[list[dict[str, t.Any]], t.Any, bool]:
        after = cursor or (0, 0)
        with Session(engine) as session:
            rows = session.execute(
                select(NaiveItem.id, NaiveItem.modified, NaiveItem.name, NaiveItem.deleted)
                .where(
                    (NaiveItem.modified > after[0])
                    | ((NaiveItem.modified == after[0]) & (NaiveItem.id > after[1]))
                )
                .order_by(NaiveItem.modified, NaiveItem.id)
                .limit(100)
            ).all()
        items = [
            {"state": "deleted", "id": r.id}
            if r.deleted
            else {"state": "updated", "id": r.id, "data": {"name": r.name}}
            for r in rows
        ]
        next_cursor = (rows[-1].modified, rows[-1].id) if rows else cursor
        return items, next_cursor, not rows

    return read


def test_naive_wall_clock_feed_loses_items(pg_url: str) -> None:
    engine = create_engine(pg_url)
    NaiveBase.metadata.drop_all(engine)
    NaiveBase.metadata.create_all(engine)
    try:
        seconds = soak_seconds(20)
        consumer = Consumer(naive_reader(engine))
        writers = Writers(engine, NaiveItem, stamp=naive_stamp)
        consumer.start()
        writers.run_for(seconds)
        consumer.stop()
        consumer.catch_up()
        with Session(engine) as session:
            rows = session.execute(
                select(NaiveItem.id, NaiveItem.name).where(NaiveItem.deleted.is_(None))
            ).all()
        report = SoakReport(seconds, writers.operations, consumer.pages, consumer.items)
        compare(consumer.copy, {r.id: {"name": r.name} for r in rows}, report)
        report.write("naive-postgresql")
        print(report.summary())
        assert report.lost > 0, "the naive feed should lose items: " + report.summary()
    finally:
        NaiveBase.metadata.drop_all(engine)
        engine.dispose()
