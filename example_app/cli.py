"""``flask demo``: seed the example app's database again, or stream realistic changes."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from .feeds import rpde
from .models import db
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
    type=click.IntRange(1, MAX_ITEMS),
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
    from flask import current_app

    from .admin.users import ensure_admin_user

    started = time.perf_counter()
    db.session.remove()
    db.drop_all()
    db.create_all()
    if size.items <= ORM_SEED_LIMIT:
        seed(db.session, size)
        ensure_admin_user(db.session, current_app)
        db.session.commit()
    else:
        from .bulk import insert_rows
        from .bulk import render_items

        plan = SeedPlan(size)
        with click.progressbar(length=size.items, label="Inserting rows ") as bar:
            insert_rows(db.engine, plan, progress=bar.update)
        with click.progressbar(length=size.items, label="Rendering items") as bar:
            render_items(db.engine, rpde, progress=bar.update)
        ensure_admin_user(db.session, current_app)
        db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(f"Seeded {size.items} feed items in {elapsed:.1f}s.")
