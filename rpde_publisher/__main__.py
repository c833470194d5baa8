"""``python -m rpde_publisher``: the commands that need no Flask app (``validate URL``)."""

from __future__ import annotations

import click

from .validate.command import validate_url_command


@click.group(help="rpde_publisher's commands that run without a Flask app.")
def main() -> None:
    pass


main.add_command(validate_url_command)

if __name__ == "__main__":
    main(prog_name="python -m rpde_publisher")
