"""A full harvest over HTTP: gunicorn with two workers, a consumer parsing every page."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

from .apps import BASE_URL
from .apps import FEED_PATH
from .serving import get
from .serving import gunicorn


@dataclass
class HarvestFigures:
    items: int
    pages: int
    seconds: float
    #: Peak resident memory of the gunicorn master and workers together, in MiB.
    peak_rss_mib: float
    #: Peak resident memory of the largest single worker, in MiB.
    peak_worker_rss_mib: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


class _RSSSampler(threading.Thread):
    """Samples the resident memory of a process tree until stopped."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = 0
        self.peak_worker = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                sizes = [p.memory_info().rss for p in self.root.children()]
                total = self.root.memory_info().rss + sum(sizes)
            except psutil.Error:
                continue
            self.peak_total = max(self.peak_total, total)
            self.peak_worker = max([self.peak_worker, *sizes])
            self.stopped.wait(self.interval)


def harvest(url: str, *, cache_type: str = "NullCache", pages_at_least: int = 0) -> HarvestFigures:
    """Serve the database at ``url`` with gunicorn and harvest its slot feed to the end,
    from the start again until ``pages_at_least`` pages have been read.

    A small feed harvested once is two or three requests, too few for the workers to
    reach the memory any server reaches after a while; asked for as many pages as a large
    feed's harvest reads, its server is as warm, and what remains is the feed's size.
    """
    with gunicorn(url, BENCH_CACHE_TYPE=cache_type) as (port, pid):
        sampler = _RSSSampler(pid)
        sampler.start()
        began = time.perf_counter()
        items, pages = consume(port)
        while pages < pages_at_least:
            more_items, more_pages = consume(port)
            items, pages = items + more_items, pages + more_pages
        seconds = time.perf_counter() - began
        sampler.stopped.set()
        sampler.join()
    mib = 1024 * 1024
    return HarvestFigures(
        items, pages, seconds, sampler.peak_total / mib, sampler.peak_worker / mib
    )


def consume(port: int) -> tuple[int, int]:
    """Walk the feed from its first page to its last, parsing every page; (items, pages)."""
    path = FEED_PATH
    items = pages = 0
    last_key: tuple[int, int] = (0, 0)
    while True:
        page = json.loads(get(port, path))
        pages += 1
        for item in page["items"]:
            key = (item["modified"], item["id"])
            if key <= last_key:
                raise RuntimeError(f"items out of order at {key}")
            last_key = key
        items += len(page["items"])
        if not page["items"]:
            return items, pages
        next_url: str = page["next"]
        if not next_url.startswith(BASE_URL):
            raise RuntimeError(f"unexpected next URL {next_url}")
        parts = urlsplit(next_url)
        path = parts.path + "?" + parts.query
