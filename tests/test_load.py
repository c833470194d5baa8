"""A short run of the load test (``make load-test`` runs the full one): consumers harvest
and poll the example app under gunicorn + Redis on PostgreSQL while writes happen; no
error, and every consumer's final copy equals the database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgresql, pytest.mark.redis, pytest.mark.slow]


def test_short_load_run_has_no_error_and_no_differing_copy(tmp_path: Path) -> None:
    output = tmp_path / "load.json"
    completed = subprocess.run(
        [sys.executable, "-m", "loadtest.run", "--users", "40", "--seconds", "15"]
        + ["--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert output.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
    result = json.loads(output.read_text())
    figures = result["figures"]
    print(completed.stdout[-2500:])
    assert figures["consumers"] == 40 and figures["failures"] == 0, result["errors"]
    assert figures["consumers_differing"] == 0, result["differing"]
    assert sum(result["writes"].values()) > 50, "writes happened during the run"
    assert figures["last_page_polls"] > 100 and figures["server_304"] > 0
    assert figures["renders_per_last_page_poll"] < 0.5, "the cache answered most polls"
    assert result["ok"] and completed.returncode == 0
