"""The ``flask rpde`` commands: install, status, purge, retire, render, checklist, validate."""

from __future__ import annotations

import json
import sys
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import click
from flask.cli import AppGroup
from sqlalchemy.engine import Connection

from .backends import backend_for
from .extension import get_extension
from .extension import RPDE
from .feed import Feed
from .validate.command import validation_options

rpde_cli = AppGroup("rpde", help="Publish and look after the app's OpenActive RPDE feeds.")


def _feeds(extension: RPDE, names: t.Sequence[str]) -> list[Feed]:
    if not names:
        return list(extension.feeds)
    feeds = []
    for name in names:
        feed = extension.feeds.get(name)
        if feed is None:
            known = ", ".join(sorted(f.name for f in extension.feeds)) or "none"
            raise click.BadParameter(f"no feed named {name!r} (feeds: {known})", param_hint="FEED")
        feeds.append(feed)
    return feeds


@contextmanager
def _transaction(extension: RPDE, feed: Feed) -> Iterator[Connection]:
    """A connection in a transaction that commits when the block ends."""
    with extension.state().sessions.session() as session:
        try:
            yield session.connection(bind_arguments={"clause": feed.spec.table})
            session.commit()
        except BaseException:
            session.rollback()
            raise


@rpde_cli.command("install")
@click.argument("feeds", nargs=-1)
def install_command(feeds: tuple[str, ...]) -> None:
    """Create or replace the database triggers of FEEDS (default: all feeds).

    Needed when feed tables were created before the feeds were registered, or after a
    migration added columns to a feed table.
    """
    extension = get_extension()
    for feed in _feeds(extension, feeds):
        with _transaction(extension, feed) as connection:
            backend = backend_for(connection.dialect)
            backend.prepare(feed.spec, connection)
            backend.install(feed.spec, connection)
        click.echo(f"{feed.name}: triggers installed on {feed.spec.table.name}")


@rpde_cli.command("status")
@click.argument("feeds", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def status_command(feeds: tuple[str, ...], as_json: bool) -> None:
    """Items, tombstones, newest change and lag of each feed."""
    from .status import feed_status

    extension = get_extension()
    settings = extension.state().settings
    results = []
    for feed in _feeds(extension, feeds):
        with extension.state().sessions.connection(feed.spec.table) as connection:
            results.append(feed_status(connection, feed, settings.settle_seconds))
    if as_json:
        click.echo(json.dumps([asdict(result) for result in results], indent=2))
        return
    for s in results:
        click.echo(f"{s.name} ({s.kind}, {s.database})")
        click.echo(f"  live items:     {s.live_items}")
        click.echo(f"  tombstones:     {s.tombstones}")
        waiting = " (render_at='read': the next read that shows them renders them)"
        click.echo(f"  unrendered:     {s.unrendered}{waiting if s.render_at == 'read' else ''}")
        click.echo(f"  newest change:  {s.newest_modified}")
        click.echo(
            f"  lag:            {s.lag.hidden_changes} change(s) not visible yet;"
            f" {s.lag.seconds:.1f}s ({s.lag.reason})"
        )
        if not s.triggers_installed:
            click.secho("  triggers:       MISSING - run `flask rpde install`", fg="red")


@rpde_cli.command("purge")
@click.argument("feeds", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def purge_command(feeds: tuple[str, ...], dry_run: bool) -> None:
    """Delete tombstones older than their retention period (safe to run from cron)."""
    from .columns import utcnow
    from .lifecycle import purge
    from .lifecycle import purgeable

    extension = get_extension()
    settings = extension.state().settings
    now = utcnow()
    total = 0
    for feed in _feeds(extension, feeds):
        retention = feed.retention or settings.tombstone_retention
        with extension.state().sessions.connection(feed.spec.table) as connection:
            due = purgeable(connection, feed, retention, now)
        if dry_run:
            click.echo(f"{feed.name}: {due} tombstone(s) older than {retention} would be purged")
            total += due
            continue
        with click.progressbar(length=due, label=f"{feed.name}: purging") as bar:
            purged = purge(
                lambda feed=feed: _transaction(extension, feed),  # type: ignore[misc]
                feed,
                retention,
                now=now,
                progress=bar.update,
            )
        click.echo(f"{feed.name}: purged {purged} tombstone(s) older than {retention}")
        total += purged
    click.echo(f"{'Would purge' if dry_run else 'Purged'} {total} tombstone(s) in all.")


@rpde_cli.command("retire")
@click.argument("feeds", nargs=-1)
def retire_command(feeds: tuple[str, ...]) -> None:
    """Turn items whose end time has passed into tombstones (feeds with expires=)."""
    from .lifecycle import retire

    extension = get_extension()
    for feed in _feeds(extension, feeds):
        if feed.expires is None:
            if feeds:
                raise click.UsageError(f"feed {feed.name!r} has no expires= column")
            continue
        count = retire(lambda feed=feed: _transaction(extension, feed), feed)  # type: ignore[misc]
        click.echo(f"{feed.name}: retired {count} past item(s)")


@rpde_cli.command("render")
@click.argument("feeds", nargs=-1)
@click.option("--missing", is_flag=True, help="Only items whose data was never rendered.")
def render_command(feeds: tuple[str, ...], missing: bool) -> None:
    """Render items' data again (after a schema change) and move them to the end."""
    from .lifecycle import rerender

    extension = get_extension()
    for feed in _feeds(extension, feeds):
        with click.progressbar(length=0, label=f"{feed.name}: rendering") as bar:
            count = rerender(
                lambda feed=feed: _transaction(extension, feed),  # type: ignore[misc]
                feed,
                only_missing=missing,
                progress=bar.update,
            )
        click.echo(f"{feed.name}: rendered {count} item(s)")


@rpde_cli.command("backfill")
@click.argument("feeds", nargs=-1)
def backfill_command(feeds: tuple[str, ...]) -> None:
    """Stamp and render rows that existed before the feed columns were added."""
    from .lifecycle import backfill

    extension = get_extension()
    for feed in _feeds(extension, feeds):
        count = backfill(lambda feed=feed: _transaction(extension, feed), feed)  # type: ignore[misc]
        click.echo(f"{feed.name}: stamped {count} existing row(s)")


@rpde_cli.command("feeds")
def feeds_command() -> None:
    """List the registered feeds and their URLs."""
    extension = get_extension()
    prefix = extension.state().settings.url_prefix
    for feed in extension.feeds:
        click.echo(f"{feed.name}\t{feed.kind}\t{feed.ordering}\t{prefix}/feeds/{feed.name}")


@rpde_cli.command("checklist")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def checklist_command(as_json: bool) -> None:
    """The five steps to publish open data: what is done and what is missing.

    Exits with status 1 while anything required is missing.
    """
    from flask import current_app

    from .dataset.checklist import format_checklist
    from .dataset.checklist import run_checklist

    steps = run_checklist(current_app._get_current_object(), get_extension())  # type: ignore[attr-defined]
    if as_json:
        click.echo(json.dumps([{**asdict(s), "done": s.done} for s in steps], indent=2))
    else:
        click.echo(format_checklist(steps))
    if not all(step.done for step in steps):
        raise SystemExit(1)


@rpde_cli.command("validate")
@click.argument("target")
@validation_options
def validate_command(target: str, **options: t.Any) -> None:
    """Walk a whole feed and check every RPDE rule; exit 1 on any failure.

    TARGET is a registered feed's name (validated in-process, and compared with the
    database) or any feed's URL.
    """
    from flask import current_app

    from .harvest import wsgi_client
    from .validate import DatabaseComparison
    from .validate.command import run_validation

    extension = get_extension()
    feed = extension.feeds.get(target)
    if feed is None:
        if "://" not in target:
            known = ", ".join(sorted(f.name for f in extension.feeds)) or "none"
            raise click.BadParameter(
                f"{target!r} is neither a feed name ({known}) nor a URL", param_hint="TARGET"
            )
        sys.exit(run_validation(target, **options))
    state = extension.state()
    origin = state.settings.base_url or "http://localhost"
    database = DatabaseComparison(
        feed,
        lambda: state.sessions.connection(feed.spec.table),
        state.settings.settle_seconds,
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with wsgi_client(app, base_url=origin) as client:
        url = f"{origin}{state.settings.url_prefix}/feeds/{feed.name}"
        sys.exit(run_validation(url, client=client, database=database, **options))
