"""The ``validate`` command, shared by ``flask rpde validate`` and ``python -m rpde_publisher``."""

from __future__ import annotations

import json
import sys
import typing as t
from collections.abc import Callable

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
    "F",
    "dataset_site_option",
    "run_site_validation",
    "run_validation",
    "validate_url_command",
    "validation_options",
]

F = t.TypeVar("F", bound=Callable[..., t.Any])


def validation_options(command: F) -> F:
    """The options every ``validate`` command takes."""
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        click.option(
            "--strict",
            is_flag=True,
            help="Warnings fail too (exit 1), for CI that holds the recommended level.",
        ),
        click.option(
            "--rewalk/--no-rewalk",
            default=True,
            show_default=True,
            help="Walk the feed a second time and compare the ids.",
        ),
        click.option(
            "--max-pages", type=click.IntRange(min=1), help="Stop each walk after N pages."
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds a page may take.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Requests per page before it counts as failed (5xx, 429, time-outs).",
        ),
        click.option(
            "--retry-wait",
            type=click.FloatRange(min=0),
            default=2.0,
            show_default=True,
            help="Seconds to wait before retrying a failed page.",
        ),
        click.option(
            "--max-wait",
            type=click.FloatRange(min=0),
            default=60.0,
            show_default=True,
            help="The longest Retry-After honoured, in seconds.",
        ),
        click.option(
            "--progress/--no-progress",
            default=True,
            show_default=True,
            help="Show a progress bar on stderr.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _retry_policy(retry_wait: float, max_wait: float, retries: int) -> RetryPolicy:
    return RetryPolicy(
        unavailable_wait=(retry_wait, 2 * retry_wait),
        max_wait=max_wait,
        error_wait=retry_wait,
        attempts=retries,
    )


def run_validation(
    url: str,
    *,
    client: httpx.Client | None = None,
    database: DatabaseCheck | None = None,
    as_json: bool,
    strict: bool,
    rewalk: bool,
    max_pages: int | None,
    timeout: float,
    retries: int,
    retry_wait: float,
    max_wait: float,
    progress: bool,
) -> int:
    """Validate the feed at ``url``, print the report, and return the exit status."""
    retry = _retry_policy(retry_wait, max_wait, retries)
    with Harvester(url, client=client, timeout=timeout, retry=retry) as harvester:
        if progress:
            with _ProgressBar(url) as bar:
                report = validate_feed(
                    url,
                    harvester,
                    rewalk=rewalk,
                    max_pages=max_pages,
                    database=database,
                    progress=bar.update,
                )
        else:
            report = validate_feed(
                url, harvester, rewalk=rewalk, max_pages=max_pages, database=database
            )
    if as_json:
        click.echo(json.dumps(report.to_dict(strict=strict), indent=2, default=str))
    else:
        click.echo(format_report(report, strict=strict))
    return 0 if report.passes(strict=strict) else 1


def run_site_validation(
    sites: t.Sequence[tuple[str, t.Sequence[Finding]]],
    *,
    client: httpx.Client | None = None,
    hints: bool = False,
    as_json: bool,
    strict: bool,
    rewalk: bool,
    max_pages: int | None,
    timeout: float,
    retries: int,
    retry_wait: float,
    max_wait: float,
    progress: bool,
) -> int:
    """Validate each dataset site (its URL, and findings known beforehand) as OpenActive's
    registration does, print the reports, and return the exit status."""
    retry = _retry_policy(retry_wait, max_wait, retries)
    reports = []
    for url, known in sites:
        with Harvester(url, client=client, timeout=timeout, retry=retry) as harvester:
            options: dict[str, t.Any] = {
                "rewalk": rewalk,
                "max_pages": max_pages,
                "hints": hints,
                "findings": known,
            }
            if progress:
                with _ProgressBar(url) as bar:
                    report = validate_site(url, harvester, progress=bar.update, **options)
            else:
                report = validate_site(url, harvester, **options)
        reports.append(report)
        if not as_json:
            click.echo(format_site_report(report, strict=strict))
            click.echo()
    if as_json:
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
        sys.exit(run_site_validation([(url, ())], **options))
    sys.exit(run_validation(url, **options))
