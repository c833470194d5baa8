"""The harvester: follows ``next`` to the last page, polls it, and waits when asked to."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

import httpx

from .errors import FeedNotFound
from .errors import FeedUnavailable
from .errors import UnexpectedStatus
from .page import Item
from .page import Page
from .page import parse_page
from .retry import RetryPolicy
from .store import apply
from .store import Store
from .transport import http_client

__all__ = ["POLL_INTERVAL", "HarvestStats", "Harvester"]

logger = logging.getLogger("rpde_publisher.harvest")

#: OpenActive asks consumers to wait this long between polls of the last page.
POLL_INTERVAL = 8.0


@dataclass
class HarvestStats:
    """What a harvester has done so far."""

    requests: int = 0
    pages: int = 0
    items: int = 0
    #: Failed requests that were retried.
    retries: int = 0
    #: Seconds spent waiting before retries (not polls).
    waited: float = 0.0


class Harvester:
    """Reads an RPDE feed as OpenActive's harvesting rules say a consumer should.

    .. code-block:: python

        copy = LocalCopy()
        with Harvester("https://example.org/openactive/feeds/session-series") as harvester:
            for page in harvester.pages():
                copy.apply(page.items)
                save_resume_point(page.next)

    :param url: Where to start: a feed's URL, or a ``next`` URL saved earlier to resume.
    :param client: The ``httpx.Client`` to use, for example
        :func:`~rpde_publisher.harvest.wsgi_client` to read a WSGI app in-process; by
        default a new client for real HTTP, closed by :meth:`close`.
    :param timeout: Seconds a request may take before it counts as failed.
    :param retry: When and how long to wait after failures.
    :param poll_interval: Seconds between polls of the last page.
    :param sleep: Called to wait; tests pass a recorder.
    :param rng: The random source for RPDE's random back-off.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        poll_interval: float = POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        #: The page to fetch next: save it to resume later.
        self.next_url = url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.poll_interval = poll_interval
        #: Requests, pages, items, retries and time spent waiting so far.
        self.stats = HarvestStats()
        self._client = client or http_client(timeout)
        self._owns_client = client is None
        self._sleep = sleep
        self._rng = rng or random.Random()

    def fetch(self, url: str) -> httpx.Response:
        """``GET url``, waiting and retrying as RPDE asks, until a ``200`` comes back.

        :raises FeedNotFound: on ``404`` or ``410`` (never retried).
        :raises FeedUnavailable: when the retries run out.
        :raises UnexpectedStatus: on any other status that waiting cannot fix.
        """
        failures = 0
        while True:
            self.stats.requests += 1
            status: int | None = None
            try:
                response = self._client.get(url, timeout=self.timeout)
            except httpx.TimeoutException:
                reason = f"no answer within {self.timeout:g}s"
                delay = self.retry.error_delay()
            except httpx.TransportError as exc:
                reason = f"the connection failed ({type(exc).__name__}: {exc})"
                delay = self.retry.error_delay()
            else:
                status = response.status_code
                if status == 200:
                    return response
                if status in (404, 410):
                    raise FeedNotFound(url, status)
                if status in (429, 503):
                    retry_after = response.headers.get("Retry-After")
                    reason = f"the feed answered {status}" + (
                        f" with Retry-After: {retry_after}" if retry_after else ""
                    )
                    delay = self.retry.unavailable_delay(retry_after, self._rng)
                elif status >= 500:
                    reason = f"the feed answered {status}"
                    delay = self.retry.error_delay()
                else:
                    raise UnexpectedStatus(url, status, _excerpt(response))
            failures += 1
            if self.retry.attempts is not None and failures >= self.retry.attempts:
                raise FeedUnavailable(url, reason, failures, status)
            logger.warning("%s: %s; retrying in %.1fs", url, reason, delay)
            self.stats.retries += 1
            self.stats.waited += delay
            self._sleep(delay)

    def page(self, url: str) -> Page:
        """The page at ``url``, fetched as :meth:`fetch` does and checked to be RPDE.

        :raises InvalidPage: if the answer is not JSON or not an RPDE page.
        """
        response = self.fetch(url)
        page = parse_page(url, response.content)
        self.stats.pages += 1
        self.stats.items += len(page.items)
        return page

    def pages(self, *, poll: bool = False) -> Iterator[Page]:
        """Pages from :attr:`next_url` on, until the last page (included).

        :attr:`next_url` moves on only when you ask for the following page, so a
        consumer that stops half-way through a page resumes at that page again.

        :param poll: Keep going at the last page: wait :attr:`poll_interval` seconds,
            fetch it again, and follow ``next`` as soon as new items appear. The
            iteration then never ends by itself; ``break`` out of it.
        """
        while True:
            page = self.page(self.next_url)
            yield page
            if not page.is_last:
                self.next_url = page.next
            elif poll:
                self._sleep(self.poll_interval)
            else:
                return

    def items(self, *, poll: bool = False) -> Iterator[Item]:
        """Every item of :meth:`pages`, in feed order."""
        for page in self.pages(poll=poll):
            yield from page.items

    def harvest(
        self, store: Store, *, poll: bool = False, on_page: Callable[[Page], None] | None = None
    ) -> str:
        """Apply every page to ``store`` (upserts and deletes) up to the last page.

        :param on_page: Called after each page is stored, e.g. to save ``page.next``.
        :return: The ``next`` URL to resume from later.
        """
        for page in self.pages(poll=poll):
            apply(store, page.items)
            if on_page is not None:
                on_page(page)
        return self.next_url

    def close(self) -> None:
        """Close the HTTP client, if the harvester made it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Harvester:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] + ("..." if len(text) > 200 else "") if text else "(empty body)"
