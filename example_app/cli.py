"""``flask demo``: seed the example app's database again, or stream realistic changes."""

from __future__ import annotations

import signal
import time
import typing as t

import click
from flask import current_app
from flask.cli import AppGroup

from .admin.users import ensure_admin_user
from .bulk import render_items
from .feeds import rpde
from .models import db
from .seed import MINIMUM_ITEMS
from .seed import seed
from .seed import SeedPlan
from .seed import SeedSize

demo_cli = AppGroup("demo", help="Look after the example app's demo data.")

#: Above this many items, reseed inserts in bulk instead of through the ORM.
ORM_SEED_LIMIT = 20_000
MAX_ITEMS = 1_000_000


@demo_cli.command("reseed")
@click.option(
    "--items",
    type=click.IntRange(MINIMUM_ITEMS, MAX_ITEMS),
    help="Feed items to create in all (the default mix, scaled); overrides the four below.",
)
@click.option("--series", default=SeedSize.series, show_default=True, type=click.IntRange(1))
@click.option(
    "--sessions-per-series",
    default=SeedSize.sessions_per_series,
    show_default=True,
    type=click.IntRange(0),
)
@click.option(
    "--facility-uses", default=SeedSize.facility_uses, show_default=True, type=click.IntRange(1)
)
@click.option(
    "--slots-per-facility",
    default=SeedSize.slots_per_facility,
    show_default=True,
    type=click.IntRange(0),
)
def reseed_command(
    items: int | None,
    series: int,
    sessions_per_series: int,
    facility_uses: int,
    slots_per_facility: int,
) -> None:
    """Drop every table and seed fresh demo data (up to a million items, for benchmarks)."""
    size = (
        SeedSize.for_items(items)
        if items is not None
        else SeedSize(series, sessions_per_series, facility_uses, slots_per_facility)
    )
    if size.items > MAX_ITEMS:
        raise click.BadParameter(f"{size.items} items is more than {MAX_ITEMS}")
    started = time.perf_counter()
    db.session.remove()
    db.drop_all()
    db.create_all()
    if size.items <= ORM_SEED_LIMIT:
        seed(db.session, size)
        ensure_admin_user(db.session, current_app)
        db.session.commit()
        render_items(db.engine, rpde)  # the slots, which the commit leaves to the first read
    else:
        from .bulk import insert_rows

        plan = SeedPlan(size)
        phase = time.perf_counter()
        with click.progressbar(length=size.items, label="Inserting rows ") as bar:
            insert_rows(db.engine, plan, progress=bar.update)
        click.echo(f"Inserted the rows in {time.perf_counter() - phase:.1f}s.")
        phase = time.perf_counter()
        with click.progressbar(length=size.items, label="Rendering items") as bar:
            render_items(db.engine, rpde, progress=bar.update)
        click.echo(f"Rendered the items in {time.perf_counter() - phase:.1f}s.")
        ensure_admin_user(db.session, current_app)
        db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(f"Seeded {size.items} feed items in {elapsed:.1f}s.")


@demo_cli.command("simulate")
@click.option(
    "--rate",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Changes per second; 0 for as fast as the database allows.",
)
@click.option("--count", type=click.IntRange(1), help="Stop after this many changes.")
@click.option("--seconds", type=click.FloatRange(0, min_open=True), help="Stop after this long.")
@click.option("--seed", type=int, help="Random seed, for a repeatable stream.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
def simulate_command(
    rate: float, count: int | None, seconds: float | None, seed: int | None, quiet: bool
) -> None:
    """Stream realistic changes (bookings, edits, cancellations, new sessions) until stopped.

    Stops at Ctrl-C (or SIGTERM), or after --count changes or --seconds, whichever comes
    first, and prints what it made.
    """
    from .simulate import Simulator

    # Our own handlers: a process started in the background by a non-interactive shell
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt: such a
    # simulator ran on after being told to stop. SIGTERM stops it the same way.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _interrupt)
    simulator = Simulator(db.session, seed=seed)
    started = time.monotonic()
    deadline = started + seconds if seconds is not None else None
    made: dict[str, int] = {}
    total = 0
    try:
        while (count is None or total < count) and (
            deadline is None or time.monotonic() < deadline
        ):
            change = simulator.step()
            total += 1
            made[change.kind] = made.get(change.kind, 0) + 1
            if not quiet:
                click.echo(f"{total:>6}  {change.description}  [{change.feed} {change.item_id}]")
            if rate:
                pause = started + total / rate - time.monotonic()
                if deadline is not None:
                    pause = min(pause, deadline - time.monotonic())
                if pause > 0:
                    time.sleep(pause)
    except KeyboardInterrupt:
        db.session.rollback()
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(made.items())) or "none"
    click.echo(f"Made {total} change(s) in {elapsed:.1f}s: {summary}.")


def _interrupt(signum: int, frame: t.Any) -> None:
    raise KeyboardInterrupt
