"""The ``flask rpde`` commands: adopt, install, status, render, purge, checklist, validate, ..."""

from __future__ import annotations

import json
import sys
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import Connection

from .command_support import get_extension
from .command_support import named_feeds
from .feed import Feed
from .quality.commands import check_items_command
from .quality.commands import quality_command
from .validate.command import dataset_site_option
from .validate.command import validation_options

__all__ = ["get_extension", "rpde_cli"]

rpde_cli = AppGroup("rpde", help="Publish and look after the app's OpenActive RPDE feeds.")
rpde_cli.add_command(quality_command)
rpde_cli.add_command(check_items_command)


if t.TYPE_CHECKING:
    from .extension import RPDE



def _feeds_command(name: str) -> t.Callable[[t.Callable[..., None]], click.Command]:
    """A ``flask rpde`` command whose arguments name feeds (every feed if none)."""

    def decorate(function: t.Callable[..., None]) -> click.Command:
        return rpde_cli.command(name)(click.argument("feeds", nargs=-1)(function))

    return decorate


def _check_setup(extension: RPDE, feed: Feed) -> None:
    """Stop with the fix, not a traceback, when ``feed``'s table cannot be used yet."""
    from .diagnosis import setup_problem

    with extension.state().sessions.connection(feed.spec.table) as connection:
        problem = setup_problem(connection, feed)
    if problem is not None:
        raise click.ClickException(str(problem))


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


@_feeds_command("install")
def install_command(feeds: tuple[str, ...]) -> None:
    """Create or replace the database triggers of FEEDS (default: all feeds).

    Needed when feed tables were created before the feeds were registered, or after a
    migration added columns to a feed table. Refuses while a table lacks its columns
    (`flask rpde adopt` adds them).
    """
    from .errors import ConfigurationError
    from .migration import install_triggers

    extension = get_extension()
    for feed in named_feeds(extension, feeds):
        try:
            with _transaction(extension, feed) as connection:
                install_triggers(connection, feed.spec.table)
        except ConfigurationError as exc:
            raise click.ClickException(f"{feed.name}: {exc}") from None
        click.echo(f"{feed.name}: triggers installed on {feed.spec.table.name}")


@_feeds_command("adopt")
def adopt_command(feeds: tuple[str, ...]) -> None:
    """Make FEEDS' existing tables publishable (default: all feeds): add the feed's
    columns, the (modified, id) index and the triggers, in that order, then stamp and
    render the rows already there. Safe to run again."""
    from .errors import ConfigurationError
    from .fingerprints import feed_fingerprints
    from .fingerprints import record
    from .lifecycle import backfill
    from .migration import add_columns

    extension = get_extension()
    for feed in named_feeds(extension, feeds):
        try:
            with _transaction(extension, feed) as connection:
                done = add_columns(connection, feed.spec.table)
        except ConfigurationError as exc:
            raise click.ClickException(f"{feed.name}: {exc}") from None
        click.echo(f"{feed.name}: {', '.join(done)} on {feed.spec.table.name}")
        count = backfill(lambda feed=feed: _transaction(extension, feed), feed)  # type: ignore[misc]
        with _transaction(extension, feed) as connection:
            record(connection, feed_fingerprints(feed))
        click.echo(f"{feed.name}: stamped {count} existing row(s); configuration recorded")


@_feeds_command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def status_command(feeds: tuple[str, ...], as_json: bool) -> None:
    """Items, tombstones, newest change and lag of each feed, and what is wrong with its
    setup (exit status 1 if anything is)."""
    from .diagnosis import diagnose
    from .status import feed_status

    extension = get_extension()
    settings = extension.state().settings
    results: list[tuple[Feed, t.Any, list[t.Any]]] = []
    for feed in named_feeds(extension, feeds):
        with extension.state().sessions.connection(feed.spec.table) as connection:
            problems = diagnose(connection, feed)
            readable = not any(p.code in ("table-missing", "columns-missing") for p in problems)
            status = feed_status(connection, feed, settings.settle_seconds) if readable else None
        results.append((feed, status, problems))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": feed.name,
                        **(asdict(status) if status is not None else {}),
                        "problems": [asdict(problem) for problem in problems],
                    }
                    for feed, status, problems in results
                ],
                indent=2,
            )
        )
    else:
        for feed, status, problems in results:
            _print_status(feed, status, problems)
    if any(problem.severity == "error" for _, _, problems in results for problem in problems):
        raise SystemExit(1)


def _print_status(feed: Feed, s: t.Any, problems: list[t.Any]) -> None:
    click.echo(f"{feed.name} ({feed.kind})")
    if s is not None:
        click.echo(f"  database:       {s.database}")
        click.echo(f"  live items:     {s.live_items}")
        if feed.publish_when() is not None:
            click.echo(f"  filtered out:   {s.filtered_out} (published as deleted items)")
        click.echo(f"  tombstones:     {s.tombstones}")
        waiting = " (render_at='read': the next read that shows them renders them)"
        click.echo(f"  unrendered:     {s.unrendered}{waiting if s.render_at == 'read' else ''}")
        click.echo(f"  newest change:  {s.newest_modified}")
        click.echo(
            f"  lag:            {s.lag.hidden_changes} change(s) not visible yet;"
            f" {s.lag.seconds:.1f}s ({s.lag.reason})"
        )
    for problem in problems:
        colour = "red" if problem.severity == "error" else "yellow"
        click.secho(f"  {problem.severity.upper()}: {problem}", fg=colour)


@_feeds_command("purge")
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
    for feed in named_feeds(extension, feeds):
        _check_setup(extension, feed)
        retention = feed.retention or settings.tombstone_retention
        if feed.spec.deleted_is_flag:
            click.echo(
                f"{feed.name}: kept every tombstone ({feed.spec.deleted_column.name} is a flag"
                " and records no time; use a timestamp column to purge them)"
            )
            continue
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


@_feeds_command("retire")
def retire_command(feeds: tuple[str, ...]) -> None:
    """Turn items whose end time has passed into tombstones (feeds with expires=)."""
    from .lifecycle import retire

    extension = get_extension()
    for feed in named_feeds(extension, feeds):
        if feed.expires is None:
            if feeds:
                raise click.UsageError(f"feed {feed.name!r} has no expires= column")
            continue
        _check_setup(extension, feed)
        count = retire(lambda feed=feed: _transaction(extension, feed), feed)  # type: ignore[misc]
        click.echo(f"{feed.name}: retired {count} past item(s)")


@_feeds_command("render")
@click.option("--missing", is_flag=True, help="Only items whose data was never rendered.")
@click.option("--all", "move_all", is_flag=True, help="Move every live item, changed or not.")
def render_command(feeds: tuple[str, ...], missing: bool, move_all: bool) -> None:
    """Render items' data again (after a schema or publish_when change) and move those
    whose data or state changed to the end, so consumers past them see the change."""
    from .fingerprints import feed_fingerprints
    from .fingerprints import filter_key
    from .fingerprints import record
    from .fingerprints import recorded
    from .lifecycle import rerender

    extension = get_extension()
    for feed in named_feeds(extension, feeds):
        _check_setup(extension, feed)
        current = feed_fingerprints(feed)
        only_changed = False
        if not missing and not move_all:
            with extension.state().sessions.connection(feed.spec.table) as connection:
                was = recorded(connection).get(filter_key(feed.name))
            # Which items a changed (or unknown) filter now rejects is not known: move all.
            only_changed = was == current[filter_key(feed.name)]
        with click.progressbar(length=0, label=f"{feed.name}: rendering") as bar:
            count = rerender(
                lambda feed=feed: _transaction(extension, feed),  # type: ignore[misc]
                feed,
                only_missing=missing,
                only_changed=only_changed,
                progress=bar.update,
            )
        if missing:
            click.echo(f"{feed.name}: rendered {count} item(s)")
            continue
        with _transaction(extension, feed) as connection:
            record(connection, current)
        what = "whose data changed " if only_changed and feed.data_column is not None else ""
        click.echo(f"{feed.name}: moved {count} item(s) {what}to the end; configuration recorded")


@_feeds_command("backfill")
def backfill_command(feeds: tuple[str, ...]) -> None:
    """Stamp and render rows that existed before the feed columns were added."""
    from .lifecycle import backfill

    extension = get_extension()
    for feed in named_feeds(extension, feeds):
        _check_setup(extension, feed)
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
@click.option(
    "--validate-sites",
    is_flag=True,
    help="In step 5, also check each dataset site as OpenActive's registration does,"
    " walking every feed (as `validate --dataset-site`).",
)
def checklist_command(as_json: bool, validate_sites: bool) -> None:
    """The five steps to publish open data: what is done and what is missing.

    Step 5 prints the answers to the ODI certificate's questionnaire and the entry that
    registers the site with OpenActive, ready to paste. Exits with status 1 while
    anything required is missing.
    """

    from .dataset.checklist import format_checklist
    from .dataset.checklist import run_checklist

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    steps = run_checklist(app, get_extension(), validate_sites=validate_sites)
    if as_json:
        click.echo(json.dumps([{**asdict(s), "done": s.done} for s in steps], indent=2))
    else:
        click.echo(format_checklist(steps))
    if not all(step.done for step in steps):
        raise SystemExit(1)


@rpde_cli.command("validate")
@click.argument("target", required=False)
@dataset_site_option
@validation_options
def validate_command(target: str | None, dataset_site: bool, **options: t.Any) -> None:
    """Walk a whole feed and check every RPDE rule; exit 1 on any failure.

    TARGET is a registered feed's name (validated in-process, and compared with the
    database) or any feed's URL.

    With --dataset-site, check a dataset site as OpenActive's registration does (the Test
    Suite's validate-feeds): TARGET is a dataset site's URL, or an organisation's key;
    with no TARGET, the app's own site and each site its data catalogue lists, in-process.
    """

    from .harvest import wsgi_client
    from .validate import DatabaseComparison
    from .validate.command import run_site_validation
    from .validate.command import run_validation
    from .validate.command import WalkOptions

    extension = get_extension()
    if dataset_site:
        if target is not None and "://" in target:
            sys.exit(run_site_validation([(target, ())], WalkOptions(**options)))
        from .dataset.registration import site_targets

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            sites, origin = site_targets(app, extension, target)
        except LookupError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="TARGET") from None
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        with wsgi_client(app, base_url=origin) as client:
            sys.exit(
                run_site_validation(sites, WalkOptions(**options), client=client, hints=True)
            )
    if target is None:
        raise click.UsageError("give a feed's name or URL (or --dataset-site)")
    feed = extension.feeds.get(target)
    if feed is None:
        if "://" not in target:
            known = ", ".join(sorted(f.name for f in extension.feeds)) or "none"
            raise click.BadParameter(
                f"{target!r} is neither a feed name ({known}) nor a URL", param_hint="TARGET"
            )
        sys.exit(run_validation(target, WalkOptions(**options)))
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
        sys.exit(run_validation(url, WalkOptions(**options), client=client, database=database))
