"""``flask rpde quality`` over the slot feed in a process of its own: its time and peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from .apps import FEED_NAME
from .databases import ROOT


@dataclass
class QualityFigures:
    #: Live items the report counted.
    items: int
    seconds: float
    #: Peak resident memory of the command's process, in MiB (the kernel's own count).
    peak_rss_mib: float
    #: The report's ``status`` (the item checks' verdict).
    status: str

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


def measure_quality(url: str) -> QualityFigures:
    """Run ``flask rpde quality <slot feed> --json`` on the database at ``url``, as a
    publisher would, and read its peak memory from the kernel once it has exited."""
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    command = [sys.executable, "-m", "flask", "--app", "benchmarks.server:app"]
    command += ["rpde", "quality", FEED_NAME, "--json"]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    output = process.stdout.read()
    # wait4 reports this child's own peak; getrusage(RUSAGE_CHILDREN) would give the
    # largest of every child the benchmarks have waited for.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"flask rpde quality exited with {process.returncode}")
    (report,) = json.loads(output)
    return QualityFigures(
        items=int(report["items"]),
        seconds=seconds,
        peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        status=str(report["status"]),
    )
