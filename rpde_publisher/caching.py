"""The server-side page cache: flask-caching, keyed by canonical URL, never trusted blindly."""

from __future__ import annotations

import logging
import struct
import threading
import time
import typing as t
import zlib
from dataclasses import dataclass

from flask import Flask
from flask_caching import Cache

logger = logging.getLogger("rpde_publisher")

# Each entry is framed as magic, last-page flag, CRC-32 and length of the body, then the
# body: a truncated or corrupted entry fails the check and is ignored.
_MAGIC = b"RPD1"
_HEADER = struct.Struct(">4sBII")


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    is_last: bool


def frame(page: CachedPage) -> bytes:
    """``page`` as one self-checking bytes value."""
    header = _HEADER.pack(_MAGIC, page.is_last, zlib.crc32(page.body), len(page.body))
    return header + page.body


def unframe(value: t.Any) -> CachedPage | None:
    """The page in ``value``, or ``None`` unless it is an intact entry."""
    if not isinstance(value, bytes) or len(value) < _HEADER.size:
        return None
    magic, is_last, checksum, length = _HEADER.unpack_from(value)
    body = value[_HEADER.size :]
    if magic != _MAGIC or length != len(body) or checksum != zlib.crc32(body):
        return None
    return CachedPage(body, bool(is_last))


class PageCache:
    """Stores rendered pages so that each is built once for every consumer.

    Uses the ``Cache`` the app handed over, or one of its own configured from the
    app's ``CACHE_*`` keys (``SimpleCache`` when none is set; ``NullCache`` turns
    caching off). When the cache backend fails, pages are rendered from the database
    instead: the failure is logged once, and the cache is left alone for
    ``retry_seconds`` before it is tried again.
    """

    key_prefix = "rpde:page:"

    def __init__(self, cache: Cache, retry_seconds: float = 30.0) -> None:
        self.cache = cache
        self.retry_seconds = retry_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_app(cls, app: Flask, cache: Cache | None, retry_seconds: float = 30.0) -> PageCache:
        if cache is None:
            config = {key: value for key, value in app.config.items() if key.startswith("CACHE_")}
            config.setdefault("CACHE_TYPE", "SimpleCache")
            config.setdefault("CACHE_NO_NULL_WARNING", True)
            if "redis" in str(config["CACHE_TYPE"]).lower():
                # A slow Redis must not hold every request: give up quickly, use the database.
                options = dict(config.get("CACHE_OPTIONS") or {})
                options.setdefault("socket_timeout", 0.5)
                options.setdefault("socket_connect_timeout", 0.5)
                config["CACHE_OPTIONS"] = options
            cache = Cache()
            cache.init_app(app, config=config)
        return cls(cache, retry_seconds)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def get(self, url: str) -> CachedPage | None:
        if not self.available:
            return None
        try:
            value = self.cache.get(self.key_prefix + url)
        except Exception as exc:  # any backend failure: serve from the database
            self._failed("read", exc)
            return None
        return unframe(value)

    def set(self, url: str, page: CachedPage, timeout: int) -> None:
        if not self.available:
            return
        try:
            self.cache.set(self.key_prefix + url, frame(page), timeout=timeout)
        except Exception as exc:
            self._failed("write", exc)

    def _failed(self, operation: str, exc: Exception) -> None:
        with self._lock:
            if not self.available:
                return  # already reported for this interval
            self._down_until = time.monotonic() + self.retry_seconds
        logger.warning(
            "The page cache failed to %s (%s: %s); serving pages from the database and"
            " trying the cache again in %.0f s.",
            operation,
            type(exc).__name__,
            exc,
            self.retry_seconds,
        )
