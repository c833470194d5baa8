"""A per-client request limit in one-second windows, shared through Redis when there is one."""

from __future__ import annotations

import logging
import threading
import time
import typing as t

logger = logging.getLogger("rpde_publisher")


class RateLimiter:
    """Allows each client at most ``limit`` requests in each wall-clock second.

    With a Redis ``client`` every worker (and every host) counts in the same Redis keys,
    one per client and second, which expire on their own; each check is one round trip
    (``INCR`` and ``EXPIRE`` pipelined). Without one, or while Redis fails, each worker
    counts in its own memory.

    :param limit: Requests per client per second (OpenActive's guidance is 10).
    :param client: A ``redis.Redis`` client, or ``None``.
    :param key_prefix: Prefix of the Redis keys.
    :param retry_seconds: After a Redis failure, count in memory this long before
        trying Redis again.
    """

    def __init__(
        self,
        limit: int,
        client: t.Any = None,
        key_prefix: str = "rpde:rate:",
        retry_seconds: float = 30.0,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
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
        window = int(self.clock())
        count = None
        if self.client is not None and time.monotonic() >= self._redis_down_until:
            count = self._count_in_redis(client_id, window)
        if count is None:
            count = self._count_here(client_id, window)
        if count <= self.limit:
            return None
        return 1  # the window ends within a second; Retry-After counts whole seconds

    def _count_in_redis(self, client_id: str, window: int) -> int | None:
        key = f"{self.key_prefix}{window}:{client_id}"
        try:
            pipeline = self.client.pipeline(transaction=False)
            pipeline.incr(key)
            pipeline.expire(key, 2)
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
            count = self._counts.get(client_id, 0) + 1
            self._counts[client_id] = count
            return count
