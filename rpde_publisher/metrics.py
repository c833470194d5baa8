"""Per-feed figures for operators, in Prometheus text format, summed over every worker.

Each worker counts in memory and adds its counts to one Redis hash (when the page cache
is Redis) at most once per ``flush_seconds``, in a single round trip; ``/metrics``
reads the hash, so any worker answers for all of them. Without Redis the figures are
the answering worker's own.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
import typing as t
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "FAMILIES",
    "RENDER_BUCKETS",
    "FeedMetrics",
    "Gauge",
    "SharedStore",
    "exposition",
    "sample",
]

logger = logging.getLogger("rpde_publisher")

#: Upper bounds (seconds) of the render-time histogram's buckets.
RENDER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

#: Each counter family: (type, help).
FAMILIES: dict[str, tuple[str, str]] = {
    "rpde_requests_total": ("counter", "Feed page requests answered (any status)."),
    "rpde_cache_hits_total": ("counter", "Feed pages served from the page cache."),
    "rpde_page_renders_total": (
        "counter",
        "Feed pages read from the database and rendered (page: items or last).",
    ),
    "rpde_page_render_seconds": (
        "histogram",
        "Time to read and render one feed page (database query, JSON, hash, gzip).",
    ),
    "rpde_responses_total": ("counter", "Feed responses by status code."),
    "rpde_items_rendered_on_read_total": (
        "counter",
        "Items without stored data that page reads rendered (stored: whether the read"
        " stored it, or left it for a later read).",
    ),
}
#: Families whose every series carries a label besides ``feed``: no unlabelled zeros.
_LABELLED = frozenset(
    {"rpde_page_renders_total", "rpde_responses_total", "rpde_items_rendered_on_read_total"}
)


class SharedStore(t.Protocol):
    """The part of a Redis client the metrics use."""

    def pipeline(self, transaction: bool = ...) -> t.Any: ...

    def hgetall(self, name: str) -> t.Any: ...


@functools.lru_cache(maxsize=4096)  # few distinct series; built on every request otherwise
def sample(family: str, feed: str, **labels: str) -> str:
    """The exposition-format series name, e.g. ``rpde_requests_total{feed="x"}``."""
    pairs = [("feed", feed), *labels.items()]
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in pairs)
    return f"{family}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class FeedMetrics:
    """Counts requests, cache hits, renders and render times per feed.

    :param flush_seconds: How often (at most) a worker adds its counts to the shared
        store; 0 adds them on every request.
    """

    def __init__(self, flush_seconds: float = 1.0) -> None:
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()
        self._local: Counter[str] = Counter()
        self._store: SharedStore | None = None
        self._key = ""
        self._last_flush = time.monotonic()
        self._down_until = 0.0

    def share(self, store: SharedStore, key: str) -> None:
        """Add counts to the Redis hash ``key`` through ``store`` from now on.

        A worker's last counts are added when its process exits (gunicorn's workers exit
        normally on a graceful stop or restart).
        """
        self._store = store
        self._key = key
        atexit.register(self.flush)

    @property
    def shared(self) -> bool:
        return self._store is not None

    # Recording (one call per request, kept cheap: a lock and a few dict updates).

    def request(self, feed: str, status: int) -> None:
        self._add(
            {
                sample("rpde_requests_total", feed): 1,
                sample("rpde_responses_total", feed, code=str(status)): 1,
            }
        )

    def hit(self, feed: str) -> None:
        self._add({sample("rpde_cache_hits_total", feed): 1})

    def render(self, feed: str, seconds: float, *, last: bool) -> None:
        counts = {
            sample("rpde_page_renders_total", feed, page="last" if last else "items"): 1.0,
            sample("rpde_page_render_seconds_sum", feed): seconds,
            sample("rpde_page_render_seconds_count", feed): 1.0,
            sample("rpde_page_render_seconds_bucket", feed, le="+Inf"): 1.0,
        }
        for bound in RENDER_BUCKETS:
            if seconds <= bound:
                counts[sample("rpde_page_render_seconds_bucket", feed, le=repr(bound))] = 1.0
        self._add(counts)

    def rendered_on_read(self, feed: str, *, stored: int, left: int) -> None:
        """A page read rendered ``stored + left`` items that had no data, and stored
        ``stored`` of them."""
        counts: dict[str, float] = {}
        if stored:
            counts[sample("rpde_items_rendered_on_read_total", feed, stored="true")] = stored
        if left:
            counts[sample("rpde_items_rendered_on_read_total", feed, stored="false")] = left
        if counts:
            self._add(counts)

    def _add(self, counts: Mapping[str, float]) -> None:
        with self._lock:
            self._local.update(counts)
            if self._store is None:
                return
            self._pending.update(counts)
            due = time.monotonic() - self._last_flush >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Add this worker's counts since the last flush to the shared store."""
        now = time.monotonic()
        with self._lock:
            if self._store is None or not self._pending or now < self._down_until:
                return
            pending, self._pending = self._pending, Counter()
            self._last_flush = now
        try:
            pipeline = self._store.pipeline(transaction=False)
            for field, amount in pending.items():
                pipeline.hincrbyfloat(self._key, field, amount)
            pipeline.execute()
        except Exception as exc:  # keep the counts; try again after a pause
            with self._lock:
                self._pending.update(pending)
                self._down_until = now + 30.0
            logger.warning("Feed metrics could not be shared through Redis: %s", exc)

    # Reading.

    def totals(self) -> tuple[dict[str, float], bool]:
        """Every series' total, and whether it covers all workers (from the shared store)."""
        if self._store is not None:
            self.flush()
            try:
                stored = self._store.hgetall(self._key)
                return {_text(k): float(v) for k, v in stored.items()}, True
            except Exception as exc:
                logger.warning("Feed metrics could not be read from Redis: %s", exc)
        with self._lock:
            return dict(self._local), False


def _text(value: t.Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Gauge:
    """A value measured when the metrics are read (for example a feed's lag)."""

    name: str
    help: str
    feed: str | None
    value: float


def exposition(
    totals: Mapping[str, float], gauges: Iterable[Gauge], feeds: Iterable[str], *, shared: bool
) -> str:
    """The Prometheus text format (version 0.0.4) of ``totals`` and ``gauges``.

    Every counter of every feed in ``feeds`` is present (0 until counted), so that
    rates start from a known zero.
    """
    lines: list[str] = []
    feeds = list(feeds)
    for family, (kind, help_text) in FAMILIES.items():
        lines += [f"# HELP {family} {help_text}", f"# TYPE {family} {kind}"]
        series = {key: value for key, value in totals.items() if _family(key) == family}
        if kind == "counter" and family not in _LABELLED:
            for feed in feeds:
                series.setdefault(sample(family, feed), 0.0)
        if kind == "histogram":  # buckets in increasing order, then sum and count
            lines += [f"{key} {_number(value)}" for key, value in _histogram(totals, feeds)]
            continue
        lines += [f"{key} {_number(value)}" for key, value in sorted(series.items())]
    by_name: dict[str, list[Gauge]] = {}
    for gauge in gauges:
        by_name.setdefault(gauge.name, []).append(gauge)
    for name, members in by_name.items():
        lines += [f"# HELP {name} {members[0].help}", f"# TYPE {name} gauge"]
        for gauge in members:
            key = sample(name, gauge.feed) if gauge.feed is not None else name
            lines.append(f"{key} {_number(gauge.value)}")
    lines += [
        "# HELP rpde_metrics_shared 1 if the figures cover every worker (shared through"
        " Redis), 0 if they are this worker's own.",
        "# TYPE rpde_metrics_shared gauge",
        f"rpde_metrics_shared {int(shared)}",
    ]
    return "\n".join(lines) + "\n"


def _family(key: str) -> str:
    name = key.split("{", 1)[0]
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in FAMILIES:
            return name[: -len(suffix)]
    return name


def _histogram(totals: Mapping[str, float], feeds: list[str]) -> list[tuple[str, float]]:
    """The render-time histogram of each feed, every bucket present and cumulative."""
    series: dict[str, float] = {}
    name = "rpde_page_render_seconds"
    for feed in feeds:
        for bound in (*(repr(b) for b in RENDER_BUCKETS), "+Inf"):
            key = sample(f"{name}_bucket", feed, le=bound)
            series[key] = totals.get(key, 0.0)
        for suffix in ("_sum", "_count"):
            key = sample(f"{name}{suffix}", feed)
            series[key] = totals.get(key, 0.0)
    return list(series.items())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
