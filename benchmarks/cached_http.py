"""Cached pages over HTTP: wrk against gunicorn, the feed and a bare view taking turns."""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .apps import BASE_URL
from .serving import get
from .serving import gunicorn
from .serving import wrk


@dataclass
class CachedHTTPFigures:
    cache_type: str
    #: Median requests per second of each.
    cached_rps: float
    bare_rps: float
    #: Median of each round's cached/bare ratio: the two ran back to back in every round,
    #: so this is steadier than the ratio of the medians when the machine's load drifts.
    ratio: float


def measure_cached_http(
    url: str, page_path: str, *, rounds: int, seconds: float, cache_type: str = "SimpleCache"
) -> CachedHTTPFigures:
    """Requests per second for one cached feed page and for its bytes from a bare view."""
    with tempfile.TemporaryDirectory() as directory:
        with gunicorn(url, BENCH_CACHE_TYPE="NullCache") as (port, _):
            body = get(port, page_path)  # the bytes the bare view will serve
        path = Path(directory) / "page.json"
        path.write_bytes(body)
        with gunicorn(url, BENCH_CACHE_TYPE=cache_type, BENCH_BYTES_FILE=str(path)) as (port, _):
            if get(port, "/bench/bytes") != body or get(port, page_path) != body:
                raise RuntimeError("the bare view and the feed serve different bytes")
            wrk(port, page_path, seconds=1)  # every worker caches the page
            samples: dict[str, list[float]] = {"cached": [], "bare": []}
            for round_number in range(rounds):
                order = [("cached", page_path), ("bare", "/bench/bytes")]
                for name, target in order if round_number % 2 == 0 else order[::-1]:
                    samples[name].append(wrk(port, target, seconds=seconds))
    assert BASE_URL
    return CachedHTTPFigures(
        cache_type,
        statistics.median(samples["cached"]),
        statistics.median(samples["bare"]),
        statistics.median(c / b for c, b in zip(samples["cached"], samples["bare"], strict=True)),
    )
