"""The server-side page cache: flask-caching, keyed by canonical URL, never trusted blindly."""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
import typing as t
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from flask_caching import Cache
from flask_caching.backends import NullCache
from flask_caching.backends import SimpleCache

from .representation import entity_tag
from .representation import Representation

__all__ = ["CachedPage", "PageCache", "frame", "unframe"]

logger = logging.getLogger("rpde_publisher")

# Each entry is framed as magic, flags (last page, gzipped form present), entity-tag
# length, a CRC-32 of the tag and body, another of the gzipped body, and the two
# lengths; then the entity tag, the body and the gzipped body. A truncated or corrupted
# entry fails the check and is ignored; so is an entry in an older frame, which is simply
# rendered again. Only the part about to be sent is checksummed on each hit: a page is
# a few hundred kilobytes, and hashing both would cost more than the rest of the hit.
_MAGIC = b"RPD3"
_HEADER = struct.Struct(">4sBBIIII")
_LAST = 1
_GZIPPED = 2


@dataclass(frozen=True)
class CachedPage:
    """A rendered page as the cache keeps it: one representation, hashed and compressed once."""

    body: bytes
    is_last: bool
    #: The body's strong entity tag (computed from the body when not given).
    etag: str = ""
    #: The body gzipped, if it was worth compressing.
    gzipped: bytes | None = None

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", entity_tag(self.body))

    @classmethod
    def build(cls, body: bytes, is_last: bool, gzip_level: int) -> CachedPage:
        """Hash ``body`` and compress it (at ``gzip_level``; 0 never) for caching."""
        representation = Representation.of(body, gzip_level)
        return cls(body, is_last, representation.etag, representation.gzipped)

    @property
    def representation(self) -> Representation:
        return Representation(self.body, self.etag, self.gzipped)


def frame(page: CachedPage) -> bytes:
    """``page`` as one self-checking bytes value."""
    tag = page.etag.encode("ascii")
    gzipped = page.gzipped or b""
    flags = (_LAST if page.is_last else 0) | (_GZIPPED if page.gzipped is not None else 0)
    identity = tag + page.body
    header = _HEADER.pack(
        _MAGIC,
        flags,
        len(tag),
        zlib.crc32(identity),
        zlib.crc32(gzipped),
        len(page.body),
        len(gzipped),
    )
    return header + identity + gzipped


def unframe(value: t.Any, *, gzip: bool | None = None, verify: bool = True) -> CachedPage | None:
    """The page in ``value``, or ``None`` unless it is an intact entry.

    :param gzip: Which part will be sent, so which to checksum: the gzipped body (when the
        entry has one) if true, the identity body if false (and the gzipped body is left
        out of the page), both if ``None``.
    :param verify: Whether to check the checksums at all; the frame's shape and lengths
        are always checked.
    """
    if not isinstance(value, bytes) or len(value) < _HEADER.size:
        return None
    magic, flags, tag_length, identity_crc, gzip_crc, body_length, gzip_length = (
        _HEADER.unpack_from(value)
    )
    payload = memoryview(value)[_HEADER.size :]
    body_end = tag_length + body_length
    if magic != _MAGIC or tag_length == 0 or body_end + gzip_length != len(payload):
        return None
    has_gzip = bool(flags & _GZIPPED)
    sends_gzip = bool(gzip) and has_gzip
    if verify and (gzip is None or sends_gzip):
        if gzip_crc != zlib.crc32(payload[body_end:]):
            return None
    if verify and (gzip is None or not sends_gzip):
        if identity_crc != zlib.crc32(payload[:body_end]):
            return None
    return CachedPage(
        body=bytes(payload[tag_length:body_end]),
        is_last=bool(flags & _LAST),
        etag=bytes(payload[:tag_length]).decode("ascii"),
        gzipped=bytes(payload[body_end:]) if has_gzip and gzip is not False else None,
    )


class PageCache:
    """Stores rendered pages so that each is built once for every consumer.

    Uses the ``Cache`` the app handed over, or one of its own configured from the
    app's ``CACHE_*`` keys (``SimpleCache`` when none is set; ``NullCache`` turns
    caching off). When the cache backend fails, pages are rendered from the database
    instead: the failure is logged once, and the cache is left alone for
    ``retry_seconds`` before it is tried again.
    """

    key_prefix = "rpde:page:"
    claim_prefix = "rpde:rendering:"

    def __init__(self, cache: Cache, retry_seconds: float = 30.0) -> None:
        self.cache = cache
        self.retry_seconds = retry_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._verifies: bool | None = None

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

    @property
    def keeps_pages(self) -> bool:
        """Whether a page stored now can be read back: not while the backend is down,
        nor when it is a ``NullCache`` (caching turned off)."""
        if not self.available:
            return False
        backend = self.cache.cache  # needs the app context, as every request has
        return not isinstance(backend, NullCache)

    def keep(
        self, url: str, body: bytes, *, is_last: bool, timeout: int, gzip_level: int, gzip: bool
    ) -> CachedPage:
        """Hash ``body``, compress it and cache it for ``timeout`` seconds; return the page.

        A page nobody will read back is compressed only when ``gzip`` says the client at
        hand takes it: compressing a large page costs about what reading it did.
        """
        keeps = self.keeps_pages
        page = CachedPage.build(body, is_last, gzip_level if keeps or gzip else 0)
        if keeps:
            self.set(url, page, timeout)
        return page

    def get(self, url: str, *, gzip: bool | None = None) -> CachedPage | None:
        """The intact page cached for ``url``; ``gzip`` says which part will be sent (see
        :func:`unframe`): a page got with ``gzip=False`` is sent plain."""
        if not self.available:
            return None
        try:
            value = self.cache.get(self.key_prefix + url)
        except Exception as exc:  # any backend failure: serve from the database
            self._failed("read", exc)
            return None
        if self._verifies is None:
            # Entries of an in-process SimpleCache never leave this process's memory, so
            # nothing can damage them; any other store is checked (the body's CRC-32 is
            # a fifth of a cached request's time for a 270 KB page).
            self._verifies = not isinstance(self.cache.cache, SimpleCache)
        return unframe(value, gzip=gzip, verify=self._verifies)

    def set(self, url: str, page: CachedPage, timeout: int) -> None:
        if not self.available:
            return
        try:
            self.cache.set(self.key_prefix + url, frame(page), timeout=timeout)
        except Exception as exc:
            self._failed("write", exc)

    @contextmanager
    def rendering(
        self,
        url: str,
        *,
        gzip: bool | None = None,
        claim_seconds: float = 10.0,
        wait_seconds: float = 5.0,
    ) -> Iterator[CachedPage | None]:
        """Around the render of a page missing from the cache: yields ``None`` when the
        caller should render it (and :meth:`keep` it), or the page another request
        rendered meanwhile.

        The first request for a missing page claims it for ``claim_seconds``; requests for
        the same page meanwhile, in any worker sharing the cache, wait up to
        ``wait_seconds`` for it, then render it themselves. The claim is given up when
        the block ends, whatever happened in it.
        """
        claimed = self.claim(url, claim_seconds)
        try:
            yield None if claimed else self.wait_for(url, wait_seconds, gzip=gzip)
        finally:
            if claimed:
                self.release(url)

    def claim(self, url: str, seconds: float) -> bool:
        """Take the right to render ``url`` for ``seconds``, so that consumers asking for
        the same missing page at once cost one render, not one each.

        True when this request should render: it holds the claim, or no cache can hold
        one (caching off, the cache down, a backend error). False when another request,
        in this worker or another sharing the cache, is rendering the page now.
        """
        if not self.keeps_pages:
            return True
        try:
            # add() stores only if the key is absent: Redis's SET NX, atomic across hosts.
            return bool(self.cache.add(self._claim_key(url), 1, timeout=math.ceil(seconds)))
        except Exception as exc:
            self._failed("claim", exc)
            return True

    def release(self, url: str) -> None:
        """Give up the claim on ``url`` taken by :meth:`claim`."""
        if not self.available:
            return
        try:
            self.cache.delete(self._claim_key(url))
        except Exception as exc:
            self._failed("release", exc)

    def wait_for(
        self, url: str, seconds: float, *, gzip: bool | None = None, poll: float = 0.025
    ) -> CachedPage | None:
        """The page another request is rendering for ``url``, once it is cached; ``None``
        if it is not there within ``seconds`` or the claim is given up without it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(poll)
            page = self.get(url, gzip=gzip)
            if page is not None:
                return page
            try:
                if not self.available or not self.cache.has(self._claim_key(url)):
                    return self.get(url, gzip=gzip)  # released: cached just now, or failed
            except Exception as exc:
                self._failed("read", exc)
                return None
        return None

    def _claim_key(self, url: str) -> str:
        return self.claim_prefix + url

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
