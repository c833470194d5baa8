"""The errors a harvest can end with, each saying what the feed did and what to do."""

from __future__ import annotations

from ..errors import RPDEError

__all__ = [
    "FeedNotFound",
    "FeedUnavailable",
    "HarvestError",
    "InvalidPage",
    "NotJSON",
    "UnexpectedStatus",
]


class HarvestError(RPDEError):
    """A feed could not be harvested; ``url`` is the page that failed."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        #: The page URL that failed.
        self.url = url
        #: What went wrong, in words.
        self.message = message


class FeedNotFound(HarvestError):
    """The feed answered ``404`` or ``410``: RPDE says stop, and do not retry."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            url,
            f"the feed answered {status} ({'Not Found' if status == 404 else 'Gone'}); RPDE"
            " consumers stop here and do not retry. Check the URL, or the dataset site for"
            " the feed's new address.",
        )
        #: ``404`` or ``410``.
        self.status = status


class FeedUnavailable(HarvestError):
    """The page kept failing (5xx, 429, time-outs, dropped connections) past the retries."""

    def __init__(self, url: str, reason: str, attempts: int, status: int | None = None) -> None:
        super().__init__(url, f"{reason}; gave up after {attempts} attempt(s)")
        #: The last failure, in words.
        self.reason = reason
        #: How many requests were made.
        self.attempts = attempts
        #: The last HTTP status, ``None`` when no response came back.
        self.status = status


class UnexpectedStatus(HarvestError):
    """The feed answered a status a consumer cannot recover from by waiting (e.g. 400)."""

    def __init__(self, url: str, status: int, excerpt: str) -> None:
        super().__init__(url, f"the feed answered {status}: {excerpt}")
        #: The HTTP status.
        self.status = status


class InvalidPage(HarvestError):
    """A ``200`` response that is not a valid RPDE page."""


class NotJSON(InvalidPage):
    """A ``200`` response whose body is not JSON (often an HTML error page from a proxy)."""
