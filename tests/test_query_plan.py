"""The page query is one index range scan: no sort of the table, no offset."""

from __future__ import annotations

import typing as t

from sqlalchemy import insert
from sqlalchemy.orm import Session

from rpde_publisher.cursor import Cursor
from rpde_publisher.query import page_statement


def _seed(engine: t.Any, models: t.Any, count: int) -> None:
    with Session(engine) as session:
        session.execute(insert(models.Series), [{"name": f"s{i}"} for i in range(count)])
        session.commit()


def test_sqlite_plan_uses_the_modified_id_index(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    _seed(sqlite_engine, models, 2000)
    feed = rpde.feeds.get("session-series")
    statement = page_statement(
        feed, Cursor(1000, 5), 500, dialect=sqlite_engine.dialect, settle_seconds=0
    )
    compiled = statement.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
    with sqlite_engine.connect() as connection:
        plan = " | ".join(
            row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "USING INDEX ix_series_rpde_order (modified>?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
    assert statement._offset_clause is None  # keyset paging: no OFFSET


def test_postgresql_plan_uses_the_modified_id_index(
    pg_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(pg_engine)
    models.Base.metadata.create_all(pg_engine)
    try:
        _seed(pg_engine, models, 20000)
        with pg_engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE series")
        feed = rpde.feeds.get("session-series")
        for cursor in (Cursor(None), Cursor(1, 10000)):
            statement = page_statement(
                feed, cursor, 500, dialect=pg_engine.dialect, settle_seconds=0
            )
            compiled = statement.compile(pg_engine, compile_kwargs={"literal_binds": True})
            with pg_engine.connect() as connection:
                plan = "\n".join(
                    row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}")
                )
            assert "Index Scan using ix_series_rpde_order" in plan, plan
            assert "Sort" not in plan and "Seq Scan" not in plan, plan
    finally:
        models.Base.metadata.drop_all(pg_engine)
