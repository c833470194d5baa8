"""Secrets each installation keeps in its instance folder, made on first use."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask


def instance_secret(app: Flask, filename: str, make: Callable[[], str]) -> str:
    """The secret in ``instance/filename``; made with ``make`` and saved (mode 0600) if new.

    Two processes starting at once agree on one value: the file is linked into place,
    which fails for the second, who then reads the first one's.
    """
    path = Path(app.instance_path) / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{filename}.")
    try:
        with os.fdopen(descriptor, "w") as handle:  # mkstemp creates it with mode 0600
            handle.write(value + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        os.unlink(temporary)
    return value
