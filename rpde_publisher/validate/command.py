"""The ``validate`` command, shared by ``flask rpde validate`` and ``python -m rpde_publisher``."""

from __future__ import annotations

import functools
import json
import sys
import typing as t
from collections.abc import Callable
from dataclasses import dataclass

import click
import httpx

from ..harvest import Harvester
from ..harvest import RetryPolicy
from .findings import Finding
from .site import validate_site
from .site_text import format_site_report
from .text import format_report
from .walk import DatabaseCheck
from .walk import Progress
from .walk import validate_feed

__all__ = [
    "dataset_site_option",
    "WalkOptions",
    "run_site_validation",
    "run_validation",
    "validate_url_command",
    "validation_options",
]

T = t.TypeVar("T")

F = t.TypeVar("F", bound=Callable[..., t.Any])


def _shown(name: str, default: t.Any, type_: t.Any, help_: str) -> t.Callable[[t.Any], t.Any]:
    """An option whose default ``--help`` shows."""
    return click.option(name, type=type_, default=default, show_default=True, help=help_)


def validation_options(command: F) -> F:
    """The options every ``validate`` command takes."""
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        click.option(
            "--strict",
            is_flag=True,
            help="Warnings fail too (exit 1), for CI that holds the recommended level.",
        ),
        _shown("--rewalk/--no-rewalk", True, None, "Walk the feed again and compare the ids."),
        click.option(
            "--max-pages", type=click.IntRange(min=1), help="Stop each walk after N pages."
        ),
        _shown("--timeout", 30.0, click.FloatRange(0, min_open=True), "Seconds a page may take."),
        _shown(
            "--retries",
            3,
            click.IntRange(min=1),
            "Requests per page before it counts as failed (5xx, 429, time-outs).",
        ),
        _shown(
            "--retry-wait",
            2.0,
            click.FloatRange(min=0),
            "Seconds to wait before retrying a failed page.",
        ),
        _shown("--max-wait", 60.0, click.FloatRange(min=0), "The longest Retry-After, in seconds."),
        _shown("--progress/--no-progress", True, None, "Show a progress bar on stderr."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class WalkOptions:
    """The options every ``validate`` command takes (see :func:`validation_options`)."""

    as_json: bool
    strict: bool
    rewalk: bool
    max_pages: int | None
    timeout: float
    retries: int
    retry_wait: float
    max_wait: float
    progress: bool

    def harvester(self, url: str, client: httpx.Client | None) -> Harvester:
        retry = RetryPolicy(
            unavailable_wait=(self.retry_wait, 2 * self.retry_wait),
            max_wait=self.max_wait,
            error_wait=self.retry_wait,
            attempts=self.retries,
        )
        return Harvester(url, client=client, timeout=self.timeout, retry=retry)

    def walk(self, url: str, client: httpx.Client | None, check: t.Callable[..., T]) -> T:
        """``check(url, harvester, rewalk=..., max_pages=...)``, with a progress bar if asked."""
        walk = functools.partial(check, rewalk=self.rewalk, max_pages=self.max_pages)
        with self.harvester(url, client) as harvester:
            if not self.progress:
                return walk(url, harvester)
            with _ProgressBar(url) as bar:
                return walk(url, harvester, progress=bar.update)


def run_validation(
    url: str,
    options: WalkOptions,
    *,
    client: httpx.Client | None = None,
    database: DatabaseCheck | None = None,
) -> int:
    """Validate the feed at ``url``, print the report, and return the exit status."""
    report = options.walk(url, client, functools.partial(validate_feed, database=database))
    strict = options.strict
    if options.as_json:
        click.echo(json.dumps(report.to_dict(strict=strict), indent=2, default=str))
    else:
        click.echo(format_report(report, strict=strict))
    return 0 if report.passes(strict=strict) else 1


def run_site_validation(
    sites: t.Sequence[tuple[str, t.Sequence[Finding]]],
    options: WalkOptions,
    *,
    client: httpx.Client | None = None,
    hints: bool = False,
) -> int:
    """Validate each dataset site (its URL, and findings known beforehand) as OpenActive's
    registration does, print the reports, and return the exit status."""
    strict = options.strict
    reports = []
    for url, known in sites:
        check = functools.partial(validate_site, hints=hints, findings=known)
        report = options.walk(url, client, check)
        reports.append(report)
        if not options.as_json:
            click.echo(format_site_report(report, strict=strict))
            click.echo()
    if options.as_json:
        click.echo(json.dumps([r.to_dict(strict=strict) for r in reports], indent=2, default=str))
    elif len(reports) > 1:
        passed = sum(report.passes(strict=strict) for report in reports)
        click.echo(f"{passed} of {len(reports)} dataset site(s) would pass.")
    return 0 if all(report.passes(strict=strict) for report in reports) else 1


class _ProgressBar:
    """Pages and items so far, on stderr (a bar without a total: feeds do not say their size)."""

    def __init__(self, url: str) -> None:
        self._bar = click.progressbar(
            iterable=(_ for _ in ()),  # a generator: unknown length
            label=f"Validating {url}",
            file=sys.stderr,
            item_show_func=self._describe,
            show_pos=False,
        )

    @staticmethod
    def _describe(progress: Progress | None) -> str | None:
        if progress is None:
            return None
        return f"{progress.phase}: {progress.pages:,} pages, {progress.items:,} items"

    def update(self, progress: Progress) -> None:
        self._bar.update(1, current_item=progress)

    def __enter__(self) -> _ProgressBar:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)


#: The ``--dataset-site`` option of both ``validate`` commands.
dataset_site_option = click.option(
    "--dataset-site",
    "dataset_site",
    is_flag=True,
    help="Check a dataset site as OpenActive's registration does (the Test Suite's"
    " validate-feeds): its JSON-LD, every feed to its end, orphans across feeds.",
)


@click.command("validate")
@click.argument("url")
@dataset_site_option
@validation_options
def validate_url_command(url: str, dataset_site: bool, **options: t.Any) -> None:
    """Walk the whole RPDE feed at URL and check every rule; exit 1 on any failure.

    With --dataset-site, URL is a dataset site: check it as OpenActive's registration
    does.
    """
    if "://" not in url:
        what = "dataset site's" if dataset_site else "feed's"
        example = "https://…/openactive/" if dataset_site else "https://…/feeds/sessions"
        raise click.BadParameter(f"give the {what} absolute URL, e.g. {example}")
    if dataset_site:
        sys.exit(run_site_validation([(url, ())], WalkOptions(**options)))
    sys.exit(run_validation(url, WalkOptions(**options)))
