"""The page query is one index range scan: no sort of the table, no offset."""

from __future__ import annotations

import typing as t

from sqlalchemy import insert
from sqlalchemy.orm import Session

from rpde_publisher.cursor import Cursor
from rpde_publisher.query import page_statement as statement_and_parameters


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


def _vm_steps(engine: t.Any, sql: str) -> int:
    """SQLite virtual-machine instructions (in hundreds) one query takes: work done."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0

        raw.set_progress_handler(tick, 100)
        try:
            connection.exec_driver_sql(sql).fetchall()
        finally:
            raw.set_progress_handler(None, 0)
    return steps[0]


def test_sqlite_page_costs_the_same_at_any_depth(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    _seed(sqlite_engine, models, 20000)
    feed = rpde.feeds.get("session-series")
    with sqlite_engine.connect() as connection:
        keys = connection.exec_driver_sql(
            "SELECT modified, id FROM series ORDER BY modified, id"
        ).all()
    costs = {}
    for depth in (0, 1000, 19000):
        cursor = Cursor(None) if depth == 0 else Cursor(*keys[depth - 1])
        statement = page_statement(
            feed, cursor, 500, dialect=sqlite_engine.dialect, settle_seconds=0
        )
        compiled = statement.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
        costs[depth] = _vm_steps(sqlite_engine, str(compiled))
    # A scan from the start of the feed would cost ~40 times as much at depth 19,000.
    assert costs[19000] < 1.5 * costs[0], costs
    assert costs[1000] < 1.5 * costs[0], costs


def test_postgresql_cursor_inside_a_transactions_rows_seeks_the_index(
    pg_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(pg_engine)
    models.Base.metadata.create_all(pg_engine)
    try:
        _seed(pg_engine, models, 20000)  # one transaction: 20,000 rows share `modified`
        with pg_engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE series")
            modified, id_ = connection.exec_driver_sql(
                "SELECT modified, id FROM series ORDER BY modified, id OFFSET 18999 LIMIT 1"
            ).one()
        feed = rpde.feeds.get("session-series")
        statement = page_statement(
            feed, Cursor(modified, id_), 500, dialect=pg_engine.dialect, settle_seconds=0
        )
        compiled = statement.compile(pg_engine, compile_kwargs={"literal_binds": True})
        with pg_engine.connect() as connection:
            plan = "\n".join(
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN ANALYZE {compiled}")
            )
        assert "Index Scan using ix_series_rpde_order" in plan, plan
        assert "ROW(modified, id) > ROW(" in plan, plan
        # Entering at `modified` alone would read and discard the 19,000 rows before it.
        assert "Rows Removed by Filter" not in plan, plan
    finally:
        models.Base.metadata.drop_all(pg_engine)


def page_statement(feed: t.Any, cursor: Cursor, limit: int, **options: t.Any) -> t.Any:
    """The page's statement with the cursor's values bound, ready to compile."""
    statement, parameters = statement_and_parameters(feed, cursor, limit, **options)
    return statement.params(parameters) if parameters else statement
