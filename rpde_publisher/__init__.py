"""Publish SQLAlchemy models as OpenActive RPDE 1.0 feeds from a Flask app."""

from .errors import ConfigurationError
from .errors import InvalidCursorError
from .errors import ItemDataError
from .errors import RPDEError
from .extension import RPDE
from .feed import Feed
from .live_rows import hide_tombstones
from .live_rows import show_tombstones
from .mixin import FeedMixin

__all__ = [
    "RPDE",
    "ConfigurationError",
    "Feed",
    "FeedMixin",
    "InvalidCursorError",
    "ItemDataError",
    "RPDEError",
    "hide_tombstones",
    "show_tombstones",
]
