"""Run the load test: the example app on PostgreSQL + Redis under gunicorn, writes, consumers.

``python -m loadtest.run --users 200 --seconds 60`` (``make load-test``):

1. creates a database on the test PostgreSQL and seeds the example app into it;
2. serves it with ``deploy/gunicorn.conf.py`` and ``deploy/wsgi.py`` (4 workers), the
   page cache and the metrics in Redis, on a loopback port;
3. writes for ``--seconds`` (``flask demo simulate``, see :func:`writer_commands`) while
   Locust runs ``--users``
   consumers, each harvesting one feed and polling its last page;
4. after the writes stop and the last page's max-age has passed, every consumer walks
   to a fresh last page; its copy must equal the database's (live items, filters
   applied), item for item;
5. prints the figures and writes them to ``--output`` (JSON) and a Markdown table.

Everything talks to 127.0.0.1 only; the run is bounded in time (Locust's ``--run-time``)
and in requests (``--max-requests``). Exits non-zero on any error or differing copy.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import typing as t
import uuid
from collections import Counter
from pathlib import Path

from .report import markdown

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "load-test-metrics-token"


#: Simulators writing at once, and the changes per second each makes.
WRITERS = 4
WRITES_PER_SECOND = 10.0


def writer_commands() -> list[list[str]]:
    """The ``flask demo simulate`` processes that write during the test (each its own
    seeded stream of bookings, edits, cancellations, new sessions, price changes and
    deletions), so that their transactions interleave as a booking system's do. They run
    until interrupted, so that the writes end exactly when the harness says."""
    return [
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "example_app",
            "demo",
            "simulate",
            "--rate",
            str(WRITES_PER_SECOND),
            "--seed",
            str(seed),
            "--quiet",
        ]
        for seed in range(WRITERS)
    ]


def count_writes(outputs: list[str]) -> Counter[str]:
    """The changes the simulators report (``Made N change(s) in Ss: 3 book_slot, ...``)."""
    made: Counter[str] = Counter()
    for output in outputs:
        for line in output.splitlines():
            if line.startswith("Made ") and ": " in line:
                for part in line.split(": ", 1)[1].rstrip(".").split(", "):
                    number, _, kind = part.partition(" ")
                    if number.isdigit():
                        made[kind] += int(number)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-test the example app's feeds.")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--settle", type=float, default=10, help="> the last page's max-age")
    parser.add_argument("--max-requests", type=int, default=400_000)
    parser.add_argument("--output", default=str(ROOT / "test-output" / "load-test.json"))
    args = parser.parse_args(argv)
    result = run(**{k: v for k, v in vars(args).items() if k != "output"})
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    return 0 if result["ok"] else 1


def run(
    *,
    users: int,
    seconds: float,
    spawn_rate: float,
    workers: int,
    threads: int,
    settle: float,
    max_requests: int,
) -> dict[str, t.Any]:
    """Run the load test once; return its figures and verdict."""
    began, load_before = time.gmtime(), os.getloadavg()[0]
    import redis

    from tests import servers
    from tests.gunicorn import gunicorn

    server = servers.postgresql_server()
    database_url = server.create_database("rpde_load")
    redis_url = servers.redis_url()
    prefix = f"load-{uuid.uuid4().hex[:8]}:"
    try:
        seed_counts = seed(database_url)
        environment = {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_EXAMPLE_AUTO_SEED": "false",
            "FLASK_CACHE_TYPE": "RedisCache",
            "FLASK_CACHE_REDIS_URL": redis_url,
            "FLASK_CACHE_KEY_PREFIX": prefix,
            "FLASK_RPDE_METRICS_TOKEN": TOKEN,
            "PROXY_HOPS": "1",
        }
        with gunicorn("deploy.wsgi:app", environment, workers=workers, threads=threads) as (
            base,
            _process,
        ):
            writes_end = time.time() + seconds
            writers = [
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={**os.environ, **environment},
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for command in writer_commands()
            ]
            stop = threading.Timer(
                seconds, lambda: [writer.send_signal(signal.SIGTERM) for writer in writers]
            )
            stop.start()
            locust_output = run_locust(
                base, users, spawn_rate, seconds, settle, writes_end, max_requests
            )
            stop.join()
            writer_out = [writer.communicate(timeout=120)[0] for writer in writers]
        # The workers have exited: each added its last counts to Redis on the way out.
        client = redis.Redis.from_url(redis_url)
        metrics = {k.decode(): float(v) for k, v in client.hgetall(prefix + "rpde:metrics").items()}
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()
        expected = database_digests(database_url)
    finally:
        server.drop_database(database_url)
        if server.throwaway is not None:
            server.throwaway.remove()
    return verdict(
        locust_output,
        metrics,
        expected,
        writes=count_writes(writer_out),
        seed_counts=seed_counts,
        settings={
            "generated": time.strftime("%Y-%m-%d %H:%M UTC", began),
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "users": users,
            "seconds": seconds,
            "workers": workers,
            "threads": threads,
            "cores": os.cpu_count(),
        },
    )


def seed(database_url: str) -> dict[str, int]:
    """Create and seed the example app's tables; count each feed's rows."""
    from example_app import create_app
    from example_app.feeds import rpde
    from example_app.models import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EXAMPLE_AUTO_SEED": True})
    with app.app_context():
        counts = {
            feed.name: db.session.query(feed.spec.table).count()  # type: ignore[call-overload]
            for feed in rpde.feeds
        }
        db.session.remove()
        db.engine.dispose()
    return counts


def run_locust(
    base: str,
    users: int,
    spawn_rate: float,
    seconds: float,
    settle: float,
    writes_end: float,
    max_requests: int,
) -> dict[str, t.Any]:
    results = ROOT / "test-output" / f"locust-{uuid.uuid4().hex[:8]}.json"
    env = {
        **os.environ,
        "LOADTEST_WRITES_END": str(writes_end),
        "LOADTEST_SETTLE": str(settle),
        "LOADTEST_MAX_REQUESTS": str(max_requests),
        "LOADTEST_RESULTS": str(results),
    }
    run_time = int(seconds + settle + 60)  # the consumers stop themselves well before this
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtest" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{run_time}s",
            "--stop-timeout",
            "30",
            "--host",
            base,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        timeout=run_time + 120,
        check=False,
    )
    output = json.loads(results.read_text())
    results.unlink()
    return t.cast(dict[str, t.Any], output)


def database_digests(database_url: str) -> dict[str, str]:
    """Each feed's expected copy, straight from the database: live rows its filter admits,
    with their stored data (rendered now where none is stored yet)."""
    import json as json_module

    from sqlalchemy import select

    from example_app import create_app
    from example_app.feeds import rpde
    from example_app.models import db
    from loadtest.copies import copy_digest
    from loadtest.copies import item_hash

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EXAMPLE_AUTO_SEED": False})
    digests = {}
    with app.app_context():
        for feed in rpde.feeds:
            spec = feed.spec
            assert spec.data_column is not None
            statement = select(spec.id_column, spec.data_column).where(
                spec.deleted_column.is_(None), spec.modified_column > 0
            )
            criterion = feed.publish_when()
            if criterion is not None:
                statement = statement.where(criterion)
            rows = db.session.execute(statement).all()
            # Items of a render_at="read" feed that no read stored yet: as a read renders them.
            missing = [id_ for id_, data in rows if data is None]
            rendered = feed.renderer.render(db.session.connection(), missing) if missing else {}
            digests[feed.name] = copy_digest(
                {
                    id_: item_hash(json_module.loads(data if data is not None else rendered[id_]))
                    for id_, data in rows
                }
            )
        db.session.remove()
        db.engine.dispose()
    return digests


def verdict(
    locust: dict[str, t.Any],
    metrics: dict[str, float],
    expected: dict[str, str],
    **context: t.Any,
) -> dict[str, t.Any]:
    consumers = locust.pop("consumers")
    differing = [c for c in consumers if c["digest"] != expected[c["feed"]]]
    with_errors = [c for c in consumers if c["error_count"]]

    def total(family: str, **labels: str) -> float:
        wanted = [f'{k}="{v}"' for k, v in labels.items()]
        return sum(
            value
            for key, value in metrics.items()
            if key.startswith(family + "{") and all(w in key for w in wanted)
        )

    last_renders = total("rpde_page_renders_total", page="last")
    polls = locust["last_page_polls"]
    figures = {
        "requests_per_second": round(locust["requests_per_second"], 1),
        "p50_ms": round(locust["p50_ms"], 1),
        "p99_ms": round(locust["p99_ms"], 1),
        "requests_total": locust["requests_total"],
        "failures": locust["failures_total"],
        "consumers": len(consumers),
        "consumers_differing": len(differing),
        "consumers_with_errors": len(with_errors),
        "last_page_polls": polls,
        "last_page_renders": int(last_renders),
        "renders_per_last_page_poll": round(last_renders / polls, 4) if polls else None,
        "server_requests": int(total("rpde_requests_total")),
        "server_cache_hits": int(total("rpde_cache_hits_total")),
        "server_renders": int(total("rpde_page_renders_total")),
        "server_304": int(total("rpde_responses_total", code="304")),
        "mean_render_ms": round(
            1000
            * total("rpde_page_render_seconds_sum")
            / max(total("rpde_page_render_seconds_count"), 1),
            2,
        ),
    }
    ok = (
        figures["failures"] == 0
        and not differing
        and not with_errors
        and len(consumers) == context["settings"]["users"]
        and not locust["budget_exceeded"]
    )
    return {
        "ok": ok,
        "figures": figures,
        "locust": locust,
        "differing": differing[:10],
        "errors": [c["errors"] for c in with_errors][:10],
        "writes": context["writes"],
        "seed": context["seed_counts"],
        "settings": context["settings"],
        "metrics_answers": Counter(
            {k: v for k, v in metrics.items() if k.startswith("rpde_responses_total")}
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
