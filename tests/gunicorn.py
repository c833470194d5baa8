"""Run an app under gunicorn (with deploy/gunicorn.conf.py) on a loopback port, for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def worker_pids(master: int) -> list[int]:
    """The pids of ``master``'s child processes (gunicorn's workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


@contextmanager
def gunicorn(
    app: str, environment: Mapping[str, str], *, workers: int = 4, threads: int = 2
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Serve ``app`` ("module:factory()") with ``workers`` workers; yield (base URL, process)."""
    port = free_port()
    env = {
        **os.environ,
        **environment,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    log = tempfile.NamedTemporaryFile("w+", prefix="rpde-gunicorn-", suffix=".log")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), app],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, workers, Path(log.name))
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_serving(
    base: str, process: subprocess.Popen[str], workers: int, log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/openactive/health", timeout=5) as response:
                if response.status == 200 and len(worker_pids(process.pid)) >= workers:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not serve {base} with {workers} workers in {timeout}s")
