"""Messages for the admin's next page: Flask's flash, carrying a dict the layout reads."""

from __future__ import annotations

import typing as t

from flask import flash

if t.TYPE_CHECKING:
    from ..links import FeedLink

Category = t.Literal["success", "error", "info"]


def notify(category: Category, message: str, links: t.Sequence[FeedLink] | None = None) -> None:
    """Show ``message`` on the next page, with ``links`` to the feed items a change moved."""
    notice: dict[str, t.Any] = {"message": message}
    if links is not None:
        notice["links"] = [[link.label, link.url] for link in links]
    # Flask stores any JSON value it is given, though its type says text; base.html
    # reads the message and the links.
    flash(notice, category)  # type: ignore[arg-type]
