"""``flask demo``: seed the example app's database again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .models import db
from .seed import seed
from .seed import SeedSize

demo_cli = AppGroup("demo", help="Look after the example app's demo data.")


@demo_cli.command("reseed")
@click.option(
    "--series", default=SeedSize.series, show_default=True, help="Session series to create."
)
@click.option("--sessions-per-series", default=SeedSize.sessions_per_series, show_default=True)
@click.option("--facility-uses", default=SeedSize.facility_uses, show_default=True)
@click.option("--slots-per-facility", default=SeedSize.slots_per_facility, show_default=True)
def reseed_command(
    series: int, sessions_per_series: int, facility_uses: int, slots_per_facility: int
) -> None:
    """Drop every table and seed fresh demo data."""
    db.drop_all()
    db.create_all()
    seed(db.session, SeedSize(series, sessions_per_series, facility_uses, slots_per_facility))
    db.session.commit()
    click.echo("Seeded fresh demo data.")
