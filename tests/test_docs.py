"""Promises the docs make that code must keep."""

from __future__ import annotations

from pathlib import Path

from rpde_publisher.settings import DEFAULTS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "config.rst").read_text()
    missing = [key for key in DEFAULTS if f".. data:: {key}" not in text]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    from rpde_publisher.cli import rpde_cli

    text = (DOCS / "cli.md").read_text()
    missing = [name for name in rpde_cli.commands if f"flask rpde {name}" not in text]
    assert missing == []
