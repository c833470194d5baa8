"""Locust consumers: each harvests one feed by the RPDE rules, polls its last page, and at
the end walks to a fresh last page and reports a digest of its copy.

Started by ``loadtest/run.py`` (``make load-test``), which sets the environment:
``LOADTEST_WRITES_END`` (epoch seconds when the writes stop), ``LOADTEST_SETTLE``
(seconds after that before the final walk: longer than the last page's max-age),
``LOADTEST_MAX_REQUESTS`` (a hard bound) and ``LOADTEST_RESULTS`` (where to write).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import typing as t
from collections import Counter
from urllib.parse import urlsplit

import gevent
from locust import events
from locust import FastHttpUser
from locust import task
from locust.exception import StopUser

from loadtest.copies import copy_digest
from loadtest.copies import item_hash

FEEDS = ["session-series", "scheduled-sessions", "facility-uses", "facility-use-slots"]
WRITES_END = float(os.environ.get("LOADTEST_WRITES_END", "0")) or time.time() + 60
SETTLE = float(os.environ.get("LOADTEST_SETTLE", "10"))
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "200000"))
RESULTS = os.environ.get("LOADTEST_RESULTS", "test-output/locust-results.json")
#: Seconds between two polls of the last page (OpenActive's advice: honour max-age;
#: these consumers poll faster, to load the origin).
POLL_SECONDS = (1.0, 3.0)

_latencies: list[float] = []  # ms, requests started before the writes stopped
_window_start: list[float] = []
_reports: list[dict[str, t.Any]] = []
_run = {"users": 0, "finished": 0, "requests": 0, "budget_exceeded": False}
_kinds: Counter[str] = Counter()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class FeedConsumer(FastHttpUser):
    """One consumer of one feed (the feeds are dealt out in turn)."""

    def on_start(self) -> None:
        number = _run["users"]
        _run["users"] += 1
        self.feed = FEEDS[number % len(FEEDS)]
        self.url = f"/openactive/feeds/{self.feed}"
        self.copy: dict[t.Any, str] = {}
        self.polling = False
        self.etag: str | None = None
        self.conditional = number % 2 == 0  # half of them revalidate with If-None-Match
        self.errors: list[str] = []
        self.pages = 0
        self.polls = 0

    def wait_time(self) -> float:
        return random.uniform(*POLL_SECONDS) if self.polling else 0.0

    @task
    def step(self) -> None:
        if time.time() >= WRITES_END + SETTLE:
            self.final_walk()
        self.polling = self.read_page(final=False)

    def read_page(self, *, final: bool) -> bool:
        """Read the page at the cursor; return whether it was the last page."""
        _run["requests"] += 1
        if _run["requests"] > MAX_REQUESTS and not _run["budget_exceeded"]:
            _run["budget_exceeded"] = True
            gevent.spawn_later(0, self.environment.runner.quit)
        headers = {}
        if self.polling and self.conditional and self.etag and not final:
            headers["If-None-Match"] = self.etag
        name = "final walk" if final else ("last page poll" if self.polling else "harvest page")
        with self.client.get(self.url, name=name, headers=headers, catch_response=True) as answer:
            if answer.status_code == 304:
                self.polls += 1
                _kinds["304"] += 1
                answer.success()
                return True
            if answer.status_code != 200:
                self.errors.append(f"{answer.status_code} for {self.url}")
                answer.failure(f"status {answer.status_code}")
                return self.polling
            try:
                body = json.loads(answer.content)
                items, next_url = body["items"], body["next"]
                assert set(body) == {"next", "items", "license"}, "unexpected keys"
            except Exception as exc:
                self.errors.append(f"bad page at {self.url}: {exc}")
                answer.failure(f"bad page: {exc}")
                return self.polling
            self.pages += 1
            if not items:
                if path_of(next_url) != self.url:
                    self.errors.append(f"last page {self.url} points at {next_url}")
                    answer.failure("last page does not point at itself")
                self.polls += 1
                _kinds["last page"] += 1
                self.etag = answer.headers.get("ETag")
                answer.success()
                return True
            for item in items:
                if item["state"] == "updated":
                    self.copy[item["id"]] = item_hash(item["data"])
                else:
                    self.copy.pop(item["id"], None)
            if path_of(next_url) == self.url:
                self.errors.append(f"page with items at {self.url} points at itself")
                answer.failure("page with items points at itself")
            self.url = path_of(next_url)
            _kinds["page with items"] += 1
            answer.success()
            return False

    def final_walk(self) -> t.NoReturn:
        """After the writes settled: follow next to the last page, report, stop."""
        for _ in range(10_000):
            if self.read_page(final=True) and not self.errors:
                break
            if self.errors:
                break
        _reports.append(
            {
                "feed": self.feed,
                "digest": copy_digest(self.copy),
                "items": len(self.copy),
                "pages": self.pages,
                "polls": self.polls,
                "errors": self.errors[:5],
                "error_count": len(self.errors),
            }
        )
        _run["finished"] += 1
        if _run["finished"] == _run["users"]:
            gevent.spawn_later(0.5, self.environment.runner.quit)
        raise StopUser()


@events.request.add_listener
def _record(
    name: str, response_time: float, start_time: float | None = None, **kwargs: t.Any
) -> None:
    started = start_time if start_time is not None else time.time()
    if started < WRITES_END and name != "final walk":
        if not _window_start:
            _window_start.append(started)
        _latencies.append(response_time)


@events.quitting.add_listener
def _write_results(environment: t.Any, **kwargs: t.Any) -> None:
    window = max(WRITES_END - (_window_start[0] if _window_start else WRITES_END), 1e-9)
    latencies = sorted(_latencies)
    total = environment.stats.total
    summary = {
        "users": _run["users"],
        "finished": _run["finished"],
        "budget_exceeded": _run["budget_exceeded"],
        "requests_in_window": len(latencies),
        "window_seconds": window,
        "requests_per_second": len(latencies) / window,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else 0.0,
        "requests_total": total.num_requests,
        "failures_total": total.num_failures,
        "answers": dict(_kinds),
        "last_page_polls": sum(r["polls"] for r in _reports),
        "by_name": {
            name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p99_ms": entry.get_response_time_percentile(0.99),
            }
            for (name, _method), entry in environment.stats.entries.items()
        },
        "consumers": _reports,
    }
    os.makedirs(os.path.dirname(RESULTS) or ".", exist_ok=True)
    with open(RESULTS, "w") as handle:
        json.dump(summary, handle, indent=1)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]
