"""Run the benchmark app under gunicorn on a loopback port, and measure it with wrk."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

from .databases import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(url: str, *, workers: int = 2, **environment: str) -> Iterator[tuple[int, int]]:
    """Serve the database at ``url``; yields (port, gunicorn master pid)."""
    port = _free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": url, **environment}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "benchmarks.server:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_until_up(port, server)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def get(port: int, path: str) -> bytes:
    """One GET over a fresh connection; the body of a 200, else an error."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:200]!r}")
    return body


def _wait_until_up(port: int, server: subprocess.Popen[t.Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            get(port, "/bench/bytes")
            return
        except (OSError, RuntimeError):
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk(port: int, path: str, *, seconds: float, connections: int = 2) -> float:
    """Requests per second wrk gets from ``path`` (non-2xx answers are an error)."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error responses: {output}")
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {output}")
    return float(match.group(1))
