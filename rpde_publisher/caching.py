"""The server-side page cache: flask-caching, keyed by a page's canonical URL."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import Flask
from flask_caching import Cache


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    is_last: bool


class PageCache:
    """Stores rendered pages so that each is built once for every consumer.

    Uses the ``Cache`` the app handed over, or one of its own configured from the
    app's ``CACHE_*`` keys (``SimpleCache`` when none is set; ``NullCache`` turns
    caching off).
    """

    key_prefix = "rpde:page:"

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @classmethod
    def for_app(cls, app: Flask, cache: Cache | None) -> PageCache:
        if cache is None:
            config = {key: value for key, value in app.config.items() if key.startswith("CACHE_")}
            config.setdefault("CACHE_TYPE", "SimpleCache")
            config.setdefault("CACHE_NO_NULL_WARNING", True)
            cache = Cache()
            cache.init_app(app, config=config)
        return cls(cache)

    def get(self, url: str) -> CachedPage | None:
        value = self.cache.get(self.key_prefix + url)
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bytes):
            return CachedPage(value[0], bool(value[1]))
        return None  # nothing, or something that is not a page: render afresh

    def set(self, url: str, page: CachedPage, timeout: int) -> None:
        self.cache.set(self.key_prefix + url, (page.body, page.is_last), timeout=timeout)

    def clear(self) -> None:
        t.cast(t.Any, self.cache).clear()
