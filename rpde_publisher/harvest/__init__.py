"""Harvest RPDE feeds as a consumer does: follow ``next``, keep a copy, poll, back off."""

from .errors import FeedNotFound
from .errors import FeedUnavailable
from .errors import HarvestError
from .errors import InvalidPage
from .errors import NotJSON
from .errors import UnexpectedStatus
from .harvester import Harvester
from .harvester import HarvestStats
from .harvester import POLL_INTERVAL
from .page import Item
from .page import ItemId
from .page import Page
from .page import parse_page
from .retry import parse_retry_after
from .retry import RetryPolicy
from .store import apply
from .store import LocalCopy
from .store import Store
from .transport import http_client
from .transport import USER_AGENT
from .transport import wsgi_client

__all__ = [
    "POLL_INTERVAL",
    "USER_AGENT",
    "FeedNotFound",
    "FeedUnavailable",
    "HarvestError",
    "HarvestStats",
    "Harvester",
    "InvalidPage",
    "Item",
    "ItemId",
    "LocalCopy",
    "NotJSON",
    "Page",
    "RetryPolicy",
    "Store",
    "UnexpectedStatus",
    "apply",
    "http_client",
    "parse_page",
    "parse_retry_after",
    "wsgi_client",
]
