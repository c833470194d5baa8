"""The example app configured for benchmarking: no auto-seed, a chosen cache, no debug."""

from __future__ import annotations

import typing as t

from flask import Flask

#: The high-volume feed every page benchmark reads (OpenActive's "millions of slots").
FEED_NAME = "facility-use-slots"
FEED_PATH = f"/openactive/feeds/{FEED_NAME}"
#: Fixed so that page bytes (and ``@id``s) never depend on the port a server picked.
BASE_URL = "http://bench.example"


def bench_app(url: str, **config: t.Any) -> Flask:
    """The example app on ``url``; uncached unless ``CACHE_TYPE`` says otherwise."""
    from example_app import create_app

    settings: dict[str, t.Any] = {
        "SQLALCHEMY_DATABASE_URI": url,
        "EXAMPLE_AUTO_SEED": False,
        "RPDE_BASE_URL": BASE_URL,
        "CACHE_TYPE": "NullCache",
    }
    settings.update(config)
    return create_app(settings)
