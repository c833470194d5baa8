"""What the ``flask rpde`` commands share: the app's extension and the feeds they name."""

from __future__ import annotations

import typing as t

import click
from flask import current_app

if t.TYPE_CHECKING:
    from .extension import RPDE
    from .feed import Feed

__all__ = ["get_extension", "named_feeds"]


def get_extension() -> RPDE:
    """The :class:`~rpde_publisher.RPDE` registered on the current app, as Flask's own
    extensions find theirs: through ``current_app.extensions``."""
    extension = current_app.extensions.get("rpde_publisher")
    if extension is None:
        raise click.UsageError(
            "rpde_publisher is not initialised on this app: call rpde.init_app(app)."
        )
    return t.cast("RPDE", extension)


def named_feeds(extension: RPDE, names: t.Sequence[str]) -> list[Feed]:
    """The feeds ``names`` names (every feed if none); an unknown name is a usage error
    (exit status 2) listing the feeds there are."""
    feeds = []
    for name in names:
        feed = extension.feeds.get(name)
        if feed is None:
            known = ", ".join(sorted(f.name for f in extension.feeds)) or "none"
            raise click.BadParameter(f"no feed named {name!r} (feeds: {known})", param_hint="FEED")
        feeds.append(feed)
    return feeds or list(extension.feeds)
