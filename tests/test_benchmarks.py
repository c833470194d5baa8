"""The benchmark harness works (quick mode, no timing asserted) and seeds what the ORM would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent


def test_fast_seed_stores_exactly_what_the_orm_path_renders(empty_database: str) -> None:
    from benchmarks.apps import bench_app
    from benchmarks.seeding import seed
    from benchmarks.seeding import SeedSize
    from example_app.feeds import rpde
    from example_app.models import Slot
    from rpde_publisher.store import write_items

    seed(
        empty_database,
        SeedSize(slots=700, facility_uses=4, embedding_series=3, transaction_rows=300),
    )
    app = bench_app(empty_database)
    feed = rpde.feeds.get("facility-use-slots")
    assert feed is not None
    engine = create_engine(empty_database)
    try:
        with app.app_context(), engine.connect() as connection:
            seeded = dict(
                connection.execute(select(Slot.id, Slot.rpde_data).order_by(Slot.id)).all()
            )
            assert len(seeded) == 700 and all(seeded.values())
            stamps = connection.execute(select(Slot.modified)).scalars().all()
            assert min(stamps) > 0, "the triggers stamped every row"
            sample = list(seeded)[::7]
            # The ORM path: load each slot afresh, dump it with the schema, store it.
            assert write_items(connection, feed.spec, sample) == len(sample)
            rendered = dict(
                connection.execute(select(Slot.id, Slot.rpde_data).where(Slot.id.in_(sample))).all()
            )
            connection.rollback()
    finally:
        engine.dispose()
    assert rendered == {id_: seeded[id_] for id_ in sample}


def test_quick_benchmark_runs_every_row_and_writes_the_report(
    pg_server: t.Any, tmp_path: Path
) -> None:
    output = tmp_path / "report"
    env = {
        **os.environ,
        "BENCH_POSTGRESQL_URL": pg_server.admin_url,
        "BENCH_WORKDIR": str(tmp_path / "databases"),
        "BENCH_DATABASE_SUFFIX": "_" + uuid.uuid4().hex[:8],
    }
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output-dir", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    results = json.loads((output / "performance.json").read_text())
    assert set(results["databases"]) == {"sqlite", "postgresql"}
    for figures in results["databases"].values():
        assert figures["harvest"]["large"]["items"] == results["items"] == 3000
        assert figures["harvest"]["large"]["pages"] == 3000 // 500 + 1
        # The small feed (300 items: a page and the last) is read as many pages, whole.
        small = figures["harvest"]["small"]
        assert small["pages"] == 8 and small["items"] == 4 * 300
        embedded = figures["embedded"]
        assert embedded["rerendered"] == {"10": 10, "100": 100}
        assert embedded["kinds"]["100"]["UPDATE session_series"] == 1
        crowded = figures["crowded"]
        assert crowded["crowd"] == 1000 and crowded["moved"] == 1, "only the new session moved"
        assert crowded["statements"]["crowded"] == crowded["statements"]["empty"]
        assert len(figures["pages"]["curve"]) == 3
        writes = figures["writes"]
        assert writes["update_checked"] > 0 and writes["update_rendering_at_commit"] > 0
    report = (output / "performance.md").read_text()
    assert report.count("| **") >= 10 * 2, "every row has a verdict on both databases"
    for row in (
        "last page vs first page",
        "the floor",
        "OFFSET/LIMIT",
        "flask-caching",
        "full harvest",
        "peak RSS",
        "change tracking",
        "embedded in 100 session",
        "a series holding 1,000 sessions",
        'with the item checks at `RPDE_ITEM_CHECKS="warn"`',
    ):
        assert row in report, row
    assert (output / "images" / "page-latency-by-depth.png").read_bytes()[
        :8
    ] == b"\x89PNG\r\n\x1a\n"
    # Nothing of the run is left behind on the server.
    engine = create_engine(pg_server.admin_url)
    try:
        with engine.connect() as connection:
            left = connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE %(name)s",
                {"name": "rpde_bench_%" + env["BENCH_DATABASE_SUFFIX"]},
            ).all()
    finally:
        engine.dispose()
    assert left == []
