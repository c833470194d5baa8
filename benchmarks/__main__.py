"""``python -m benchmarks``: seed, measure every row of the performance table, write the report.

``--quick`` runs the same code on small data in seconds (CI runs it, asserting nothing about
time); the default is the full run at 1,000,000 items that ``make bench`` starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import typing as t
from datetime import datetime
from datetime import UTC
from pathlib import Path

from . import databases
from .apps import FEED_PATH
from .databases import ROOT
from .machine import describe
from .machine import load_average
from .quality import measure_quality
from .seeding import SeedSize


@dataclasses.dataclass(frozen=True)
class Plan:
    """How big and how often: the full run, or the quick one."""

    size: SeedSize
    small_items: int
    write_rows: int
    embedding_counts: tuple[int, ...]
    #: Sessions the crowded series holds when one more is added (the linking row).
    crowd: int
    repeats: int
    deep_repeats: int
    curve_points: int
    write_repeats: int
    wrk_rounds: int
    wrk_seconds: float


FULL = Plan(
    size=SeedSize(),
    small_items=1_000,
    write_rows=20_000,
    embedding_counts=(100, 1_000),
    crowd=10_000,
    repeats=41,
    deep_repeats=9,
    curve_points=10,
    write_repeats=301,
    wrk_rounds=9,
    wrk_seconds=3,
)
QUICK = Plan(
    size=SeedSize(slots=3_000, facility_uses=6, embedding_series=0, transaction_rows=500),
    small_items=300,
    write_rows=1_000,
    embedding_counts=(10, 100),
    crowd=1_000,
    repeats=5,
    deep_repeats=3,
    curve_points=3,
    write_repeats=5,
    wrk_rounds=1,
    wrk_seconds=1,
)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(
    plan: Plan, dialects: list[str], *, quick: bool, keep: bool, reuse: bool
) -> dict[str, t.Any]:
    """Every measurement on every database; returns the results as plain data."""
    from .cached_http import measure_cached_http
    from .crowded import measure_crowded
    from .embedded import measure_embedded
    from .harvest import harvest
    from .pages import cursor_at
    from .pages import measure_pages
    from .seeding import seed
    from .seeding import seeding_seconds
    from .seeding import slot_count
    from .serving import wrk_available
    from .writes import measure_writes

    items = plan.size.slots
    results: dict[str, t.Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "items": items,
        "small_items": plan.small_items,
        "load_before": load_average(),
        "databases": {},
    }
    versions = []
    for dialect in dialects:
        _say(f"== {dialect}")
        figures: dict[str, t.Any] = {}
        big = databases.database(dialect, f"{items}")
        small = databases.database(dialect, f"{plan.small_items}")
        written = databases.database(dialect, f"writes_{plan.write_rows}")
        owned = [big, small, written]
        try:
            for db, size in (
                (big, plan.size),
                (small, dataclasses.replace(plan.size, slots=plan.small_items, embedding_series=0)),
                (
                    written,
                    dataclasses.replace(plan.size, slots=plan.write_rows, embedding_series=0),
                ),
            ):
                seconds = seeding_seconds(db.url) if reuse and db is not written else None
                if seconds is not None and slot_count(db.url) == size.slots:
                    _say(f"  reusing {db.name} ({size.slots:,} slots)")
                    if db is big:
                        figures["seed_seconds"] = seconds
                    continue
                _say(f"  seeding {db.name} ({size.slots:,} slots)")
                databases.create_database(db)
                seconds = seed(db.url, size, progress=lambda m: _say("  " + m))
                if db is big:
                    figures["seed_seconds"] = seconds
            versions.append(databases.database_version(big.url))
            _say("  pages")
            pages = measure_pages(
                big.url,
                items,
                repeats=plan.repeats,
                deep_repeats=plan.deep_repeats,
                curve_points=plan.curve_points,
            )
            figures["pages"] = dataclasses.asdict(pages)
            if wrk_available():
                _say("  cached pages over HTTP (wrk)")
                from sqlalchemy import create_engine

                engine = create_engine(big.url)
                with engine.connect() as connection:
                    middle = cursor_at(connection, pages.deep_position)
                engine.dispose()
                path = f"{FEED_PATH}?afterTimestamp={middle.modified}&afterId={middle.id}"
                cached = measure_cached_http(
                    big.url, path, rounds=plan.wrk_rounds, seconds=plan.wrk_seconds
                )
                figures["cached_http"] = {**dataclasses.asdict(cached), "rounds": plan.wrk_rounds}
            _say("  harvests over HTTP")
            harvests = {}
            for label, db, cache in (
                ("large", big, "NullCache"),
                ("small", small, "NullCache"),
                ("large_again", big, "NullCache"),
                ("large_third", big, "NullCache"),
                # The example app's default page cache, kept in each worker's memory.
                ("large_simple_cache", big, "SimpleCache"),
                ("small_simple_cache", small, "SimpleCache"),
            ):
                # A small feed is read as many pages as the large one, over and over.
                warm = harvests["large"]["pages"] if db is small else 0
                harvested = harvest(db.url, cache_type=cache, pages_at_least=warm)
                harvests[label] = {
                    **dataclasses.asdict(harvested),
                    "items_per_second": harvested.items_per_second,
                }
            figures["harvest"] = harvests
            _say("  flask rpde quality")
            figures["quality"] = {}
            for label, db in (("large", big), ("small", small)):
                measured = measure_quality(db.url)
                figures["quality"][label] = {
                    **dataclasses.asdict(measured),
                    "items_per_second": measured.items_per_second,
                }
            _say("  writes")
            figures["writes"] = dataclasses.asdict(
                measure_writes(written.url, repeats=plan.write_repeats)
            )
            _say("  editing an embedded place")
            figures["embedded"] = dataclasses.asdict(
                measure_embedded(written.url, plan.embedding_counts, repeats=3)
            )
            _say(f"  adding a session to a series holding {plan.crowd:,}")
            figures["crowded"] = dataclasses.asdict(
                measure_crowded(written.url, crowd=plan.crowd, repeats=plan.write_repeats)
            )
        finally:
            if not keep:
                for db in owned:
                    db.drop()
        results["databases"][dialect] = figures
    results["load_after"] = load_average()
    results["machine"] = describe(versions)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds (CI)")
    parser.add_argument(
        "--databases",
        default=",".join(databases.DIALECTS),
        help="comma-separated: sqlite,postgresql",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where the report, plot and JSON go (default: docs/ for a full run,"
        " test-output/bench/ for --quick)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse databases a --keep run left, if complete"
    )
    parser.add_argument(
        "--report-only",
        type=Path,
        default=None,
        help="rewrite the report and plot from a results JSON, measuring nothing",
    )
    args = parser.parse_args(argv)
    from .report import write_report

    if args.report_only is not None:
        results = json.loads(args.report_only.read_text())
    else:
        began = time.perf_counter()
        results = run(
            QUICK if args.quick else FULL,
            [name.strip() for name in args.databases.split(",") if name.strip()],
            quick=args.quick,
            keep=args.keep,
            reuse=args.reuse,
        )
        results["seconds"] = time.perf_counter() - began
    output = args.output_dir or (
        ROOT / "test-output" / "bench" if results["quick"] else ROOT / "docs"
    )
    written = write_report(results, output)
    for path in written:
        _say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
