"""Four gunicorn workers sharing one Redis page cache, serving the test app on loopback.

Proves what production relies on: a page rendered by one worker is served from Redis by
the others (counted by the shared metrics and by the answering workers' pids); the last
page is never served stale for longer than its ``max-age`` of 8 seconds; and behind a
proxy (``X-Forwarded-Proto``/``-Host``) every ``next`` URL is the public https one.
"""

from __future__ import annotations

import json
import time
import typing as t
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import servers
from .conftest import _unavailable
from .gunicorn import gunicorn
from .gunicorn import worker_pids
from .models import make_models
from .test_production_http import parse_metrics

pytestmark = [pytest.mark.postgresql, pytest.mark.redis, pytest.mark.slow]

TOKEN = "workers-test-metrics-token"
SERIES = "/openactive/feeds/session-series"
LAST_PAGE_MAX_AGE = 8


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> t.Any:
        return json.loads(self.body)

    @property
    def worker(self) -> int:
        return int(self.headers["X-Worker-Pid"])


def get(url: str, headers: dict[str, str] | None = None) -> Answer:
    """One request on a new connection (so the kernel may hand it to any worker)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


@dataclass
class Served:
    base: str
    master_pid: int
    engine: t.Any
    models: t.Any

    def metrics(self) -> dict[str, float]:
        answer = get(self.base + "/openactive/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert answer.status == 200
        return parse_metrics(answer.body.decode())


@pytest.fixture(scope="module")
def served(redis_url: str) -> t.Iterator[Served]:
    """The test app under 4 gunicorn workers, on a PostgreSQL of its own, caching in Redis.

    Its own PostgreSQL: the feed watermark is server-wide, so other test runs' open
    transactions on a shared server must not delay what these timings measure.
    """
    try:
        server = servers.throwaway_postgresql_server()
    except servers.Unavailable as exc:
        _unavailable("postgresql", str(exc))
    assert server.throwaway is not None
    models = make_models()
    try:
        url = server.create_database()
        engine = create_engine(url)
        models.Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all([models.Series(name=f"Swim {i}") for i in range(25)])
            session.commit()
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"workers-{uuid.uuid4().hex[:8]}:",
            "RPDE_PAGE_SIZE": 10,
            "RPDE_METRICS_TOKEN": TOKEN,
            "RPDE_METRICS_FLUSH_SECONDS": 0,
        }
        environment = {
            "RPDE_TEST_APP_DATABASE_URL": url,
            "RPDE_TEST_APP_CONFIG": json.dumps(config),
            "RPDE_TEST_APP_PROXY_HOPS": "1",
        }
        with gunicorn("tests.wsgi_app:create_app()", environment, workers=4) as (base, process):
            assert len(worker_pids(process.pid)) == 4
            yield Served(base, process.pid, engine, models)
        engine.dispose()
    finally:
        server.throwaway.remove()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_a_page_rendered_by_one_worker_is_served_from_redis_by_the_others(
    served: Served,
) -> None:
    url = served.base + SERIES
    before = served.metrics()
    first = get(url)
    assert first.status == 200 and len(first.json["items"]) == 10
    renderer = first.worker

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: get(url), range(64)))
    after = served.metrics()

    assert all(a.status == 200 and a.body == first.body for a in answers)
    assert {a.headers["ETag"] for a in answers} == {first.headers["ETag"]}
    others = {a.worker for a in answers} - {renderer}
    assert len(others) >= 2, f"other workers answered too: {others}"
    assert set(worker_pids(served.master_pid)) >= others, "the answers came from the workers"

    def delta(series: str) -> float:
        return after.get(series, 0) - before.get(series, 0)

    feed = '{feed="session-series"}'
    assert delta('rpde_page_renders_total{feed="session-series",page="items"}') == 1
    assert delta(f"rpde_cache_hits_total{feed}") == 64, "every other request was a cache hit"
    assert delta(f"rpde_requests_total{feed}") == 65
    assert after["rpde_metrics_shared"] == 1, "the figures are every worker's, through Redis"


def test_the_last_page_is_never_stale_beyond_its_max_age(served: Served) -> None:
    # Walk to the last page; its URL is where consumers poll.
    url = served.base + SERIES
    for _ in range(20):
        body = get(url).json
        if not body["items"]:
            break
        url = served.base + path_of(body["next"])
    # Cache the last page afresh: its entry expires LAST_PAGE_MAX_AGE seconds after the
    # render, which happens between rendered_after and rendered_before.
    while True:
        rendered_after = time.monotonic()
        answer = get(url)
        rendered_before = time.monotonic()
        assert answer.status == 200 and answer.headers["Cache-Control"] == "public, max-age=8"
        if answer.json["items"] == []:
            break
    metrics_before = served.metrics()
    time.sleep(1)
    with Session(served.engine) as session:
        session.add(served.models.Series(name="new while cached"))
        session.commit()
    committed = time.monotonic()

    polls: list[tuple[float, bool, int]] = []  # (when the poll started, fresh?, worker)
    with ThreadPoolExecutor(4) as pool:
        while time.monotonic() - rendered_after < LAST_PAGE_MAX_AGE + 3:
            started = time.monotonic()
            results = list(pool.map(lambda _: get(url), range(4)))
            for result in results:
                assert result.status == 200
                polls.append((started, bool(result.json["items"]), result.worker))
            time.sleep(0.1)

    stale = [(at, worker) for at, fresh, worker in polls if not fresh]
    fresh_since = min(at for at, fresh, _ in polls if fresh)
    # Stale only while the entry lived (Redis expires keys to the millisecond).
    assert max(at for at, _ in stale) < rendered_before + LAST_PAGE_MAX_AGE + 0.05
    # Polls of one round start together, so the round in which the entry expires may
    # see both; every later round must be fresh.
    assert all(fresh for at, fresh, _ in polls if at > fresh_since), "never stale again"
    assert fresh_since > rendered_after + LAST_PAGE_MAX_AGE - 1, "the cache held the page"
    after_write = [worker for at, worker in stale if at > committed]
    assert after_write, "the cached last page was served after the write (the cache was in use)"
    assert len(set(after_write)) >= 2, "by several workers, from Redis"
    renders = served.metrics()['rpde_page_renders_total{feed="session-series",page="last"}']
    assert (
        renders
        - metrics_before.get('rpde_page_renders_total{feed="session-series",page="last"}', 0)
        <= 1
    ), "the last page was rendered at most once more, when its entry expired"


def test_behind_the_proxy_next_urls_are_the_public_https_ones(served: Served) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "feeds.example.org"}
    public = "https://feeds.example.org"
    url = served.base + SERIES
    pages = 0
    while True:
        answer = get(url, forwarded)
        assert answer.status == 200
        body = answer.json
        assert body["next"].startswith(public + SERIES)
        pages += 1
        if not body["items"]:
            assert body["next"] == public + path_of(url), "the last page's next is itself"
            break
        url = served.base + path_of(body["next"])
    assert pages >= 3
    # The same pages asked directly keep their own origin: cache entries never cross hosts.
    direct = get(served.base + SERIES).json
    assert direct["next"].startswith(served.base + SERIES)
    again = [get(served.base + SERIES, forwarded).json["next"] for _ in range(8)]
    assert all(next_url.startswith(public) for next_url in again)
