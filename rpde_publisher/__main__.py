"""``python -m rpde_publisher``: the commands that need no Flask app (validate, check-items)."""

from __future__ import annotations

import click

from .openactive.check_command import check_items_command
from .validate.command import validate_url_command


@click.group(help="rpde_publisher's commands that run without a Flask app.")
def main() -> None:
    pass


main.add_command(validate_url_command)
main.add_command(check_items_command)

if __name__ == "__main__":
    main(prog_name="python -m rpde_publisher")
