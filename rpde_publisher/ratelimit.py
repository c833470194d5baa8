"""A per-client request limit in fixed windows (a second by default), shared through Redis."""

from __future__ import annotations

import logging
import math
import threading
import time
import typing as t

__all__ = ["RateLimiter"]

logger = logging.getLogger("rpde_publisher")


class RateLimiter:
    """Allows each client at most ``limit`` requests in each wall-clock window of
    ``window`` seconds (one by default).

    With a Redis ``client`` every worker (and every host) counts in the same Redis keys,
    one per client and window, which expire on their own; each check is one round trip
    (``INCR`` and ``EXPIRE`` pipelined). Without one, or while Redis fails, each worker
    counts in its own memory, for at most ``max_clients`` clients a window (more are
    refused: an attacker with many addresses must not fill the memory).

    :param limit: Requests per client per window (OpenActive's guidance is 10 a second).
    :param client: A ``redis.Redis`` client, or ``None``.
    :param key_prefix: Prefix of the Redis keys.
    :param retry_seconds: After a Redis failure, count in memory this long before
        trying Redis again.
    :param window: The window's length in seconds.
    """

    def __init__(
        self,
        limit: int,
        client: t.Any = None,
        key_prefix: str = "rpde:rate:",
        retry_seconds: float = 30.0,
        clock: t.Callable[[], float] = time.time,
        window: int = 1,
        max_clients: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        #: The wall clock that decides the windows (every worker's must agree).
        self.clock = clock
        self.client = client
        self.key_prefix = key_prefix
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}
        self._redis_down_until = 0.0

    def retry_after(self, client_id: str) -> int | None:
        """Count one request from ``client_id``; ``None`` if allowed, else seconds to wait."""
        now = self.clock()
        window = int(now // self.window)
        count = None
        if self.client is not None and time.monotonic() >= self._redis_down_until:
            count = self._count_in_redis(client_id, window)
        if count is None:
            count = self._count_here(client_id, window)
        if count <= self.limit:
            return None
        # Until the window ends, in whole seconds (Retry-After's unit), at least one.
        return max(1, math.ceil((window + 1) * self.window - now))

    def _count_in_redis(self, client_id: str, window: int) -> int | None:
        key = f"{self.key_prefix}{window}:{client_id}"
        try:
            pipeline = self.client.pipeline(transaction=False)
            pipeline.incr(key)
            pipeline.expire(key, 2 * self.window)
            count, _ = pipeline.execute()
            return int(count)
        except Exception as exc:
            self._redis_down_until = time.monotonic() + self.retry_seconds
            logger.warning(
                "The rate limit could not count in Redis (%s); counting per worker for %.0f s.",
                exc,
                self.retry_seconds,
            )
            return None

    def _count_here(self, client_id: str, window: int) -> int:
        with self._lock:
            if window != self._window:  # a new second: forget every earlier count
                self._window = window
                self._counts = {}
            if client_id not in self._counts and len(self._counts) >= self.max_clients:
                return self.limit + 1
            count = self._counts.get(client_id, 0) + 1
            self._counts[client_id] = count
            return count
