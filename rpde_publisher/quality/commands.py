"""The ``flask rpde quality`` and ``flask rpde check-items`` commands."""

from __future__ import annotations

import functools
import json
import sys
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask import url_for
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection

from ..command_support import get_extension
from ..command_support import named_feeds
from ..counting import count_items
from ..openactive.checks import check_item
from ..openactive.vocabulary import vocabularies_from
from ..responses import absolute_url
from .checking import Checker
from .checking import findings
from .figures import COMPLETENESS
from .figures import feed_figures
from .items import iter_items

if t.TYPE_CHECKING:
    from ..extension import RPDE
    from ..feed import Feed

__all__ = ["CHECKER_KEY", "check_items_command", "feed_url", "quality_command"]




def feed_url(extension: RPDE, feed: Feed) -> str:
    """``feed``'s absolute URL as the dataset site lists it, outside any request:
    ``RPDE_BASE_URL``, else ``SERVER_NAME`` (or ``localhost``)."""
    base_url = extension.state().settings.base_url
    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
    origin = base_url or f"{scheme}://{current_app.config.get('SERVER_NAME') or 'localhost'}"
    with current_app.test_request_context("/", base_url=origin):
        return absolute_url(base_url, url_for("rpde.feed_page", name=feed.name))


#: Where an app may put its own item checker (a :data:`~.checking.Checker`) for these
#: commands to run instead of OpenActive's checks.
CHECKER_KEY = "rpde_item_checker"


def _checker() -> Checker:
    """The app's own checker, else OpenActive's checks with the lists the app names
    (``RPDE_ACTIVITY_LIST``, ``RPDE_FACILITY_TYPES``) or the official ones."""
    checker = current_app.extensions.get(CHECKER_KEY)
    if checker is not None:
        return t.cast(Checker, checker)
    vocabularies = vocabularies_from(
        current_app.config.get("RPDE_ACTIVITY_LIST"), current_app.config.get("RPDE_FACILITY_TYPES")
    )
    return functools.partial(check_item, vocabularies=vocabularies)


@contextmanager
def _reading(extension: RPDE, feed: Feed) -> Iterator[tuple[Connection, Callable[[int], None]]]:
    """A connection to ``feed``'s table, and a progress callback (items read so far) that
    moves a bar on stderr sized by the feed's live items."""
    with extension.state().sessions.connection(feed.spec.table) as connection:
        total = count_items(connection, feed, live=True)
        with click.progressbar(length=total, label=feed.name, file=sys.stderr) as bar:
            done = 0

            def progress(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            yield connection, progress


@click.command("quality")
@with_appcontext
@click.argument("feeds", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="A JSON array, one object per feed.")
def quality_command(feeds: tuple[str, ...], as_json: bool) -> None:
    """Each feed's quality figures, as OpenActive's ecosystem dashboard scores them."""
    extension = get_extension()
    checker = _checker()
    results = []
    every = list(extension.feeds)
    for feed in named_feeds(extension, feeds):
        url = feed_url(extension, feed)
        with _reading(extension, feed) as (connection, progress):
            results.append(
                feed_figures(
                    connection, feed, feeds=every, feed_url=url, checker=checker, progress=progress
                )
            )
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for figures in results:
        _print_figures(figures)


def _print_figures(figures: dict[str, t.Any]) -> None:
    click.echo(f"{figures['feed']} ({figures['feed_type']}): {figures['status']}")
    click.echo(f"  url:           {figures['feed_url']}")
    click.echo(f"  live items:    {figures['items']}")
    click.echo(f"  future items:  {figures['num_future_opportunity_items']}")
    for figure in COMPLETENESS:
        share = figures[f"{figure}_completeness"]
        shown = "n/a" if share is None else f"{share:.0%}"
        click.echo(f"  {figure + ':':<14} {shown}")
    for label in ("errors", "warnings"):
        for rule, count in figures[label].items():
            click.echo(f"  {label[:-1]}: {rule} x{count}")


@click.command("check-items")
@with_appcontext
@click.argument("feed")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message, a line each.")
def check_items_command(feed: str, as_json: bool) -> None:
    """Run every live item of FEED through the item checks; exit 1 on any failure."""
    extension = get_extension()
    checker = _checker()
    (target,) = named_feeds(extension, [feed])
    failed = False
    with _reading(extension, target) as (connection, progress):
        items = iter_items(connection, target, progress=progress)
        for finding in findings(items, checker):
            failed = failed or finding.message.severity == "failure"
            if as_json:
                click.echo(json.dumps(finding.as_json(), default=str))
            else:
                m = finding.message
                click.echo(f"item {finding.id} [{m.severity}] {m.path}: {m.message} ({m.rule})")
    if failed:
        raise SystemExit(1)
