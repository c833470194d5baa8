"""A description of the machine the figures came from."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> float:
    """The one-minute load average: how busy the (shared) machine was."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def describe(database_versions: list[str]) -> dict[str, str]:
    """CPU, cores, memory, OS, Python and database versions, as report lines."""
    import sqlalchemy

    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{_memory_gib():.0f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "libraries": (
            f"Flask {_version('flask')},"
            f" SQLAlchemy {sqlalchemy.__version__}, marshmallow {_version('marshmallow')}"
        ),
        "databases": ", ".join(database_versions),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)
