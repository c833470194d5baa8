"""The ``check-items`` command: check items' data against OpenActive's data models."""

from __future__ import annotations

import json
import typing as t

import click

from .checks import check_item
from .vocabulary import default_vocabularies
from .vocabulary import Vocabularies

__all__ = ["check_items_command", "items_of"]


def items_of(document: object) -> list[dict[str, t.Any]]:
    """The items' data in one item, a JSON array of items, or an RPDE page (its live items)."""
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        return [
            i["data"]
            for i in document["items"]
            if isinstance(i, dict) and isinstance(i.get("data"), dict)
        ]
    if isinstance(document, dict) and "@type" in document:
        return [document]
    if isinstance(document, list) and all(isinstance(i, dict) for i in document):
        return list(document)
    raise ValueError("expected one item's data (with @type), a JSON array of them, or an RPDE page")


@click.command("check-items")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per message.")
@click.option(
    "--activity-list", type=click.Path(exists=True, dir_okay=False), help="A local activity list."
)
@click.option(
    "--facility-types",
    type=click.Path(exists=True, dir_okay=False),
    help="A local facility types list.",
)
@click.argument("source", metavar="FILE|-", type=click.File("r"))
def check_items_command(
    as_json: bool, activity_list: str | None, facility_types: str | None, source: t.TextIO
) -> None:
    """Check the items in FILE (- for stdin) against OpenActive's data models.

    FILE is one item's data, a JSON array of them, or an RPDE page. Exit status: 1 on any
    failure, 2 when FILE is not JSON or not one of those shapes, 0 otherwise.
    """
    try:
        items = items_of(json.load(source))
    except ValueError as error:
        click.echo(f"Error: {source.name}: {error}", err=True)
        raise SystemExit(2) from error
    defaults = default_vocabularies() if not (activity_list and facility_types) else Vocabularies()
    vocabularies = Vocabularies(
        Vocabularies.from_files(activity_list).activities if activity_list else defaults.activities,
        Vocabularies.from_files(None, facility_types).facility_types
        if facility_types
        else defaults.facility_types,
    )
    failed = False
    for index, data in enumerate(items):
        for message in check_item(data, vocabularies=vocabularies):
            failed = failed or message.severity == "failure"
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "index": index,
                            "path": message.path,
                            "severity": message.severity,
                            "rule": message.rule,
                            "message": message.message,
                        }
                    )
                )
            else:
                click.echo(
                    f"item {index} {message.path}: {message.severity}"
                    f" [{message.rule}] {message.message}"
                )
    raise SystemExit(1 if failed else 0)
