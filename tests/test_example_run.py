"""From a fresh clone, the README's run command alone brings the example app up, seeded."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import time
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .example import csrf_token
from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _get(opener: t.Any, url: str, data: dict[str, str] | None = None) -> t.Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    return opener.open(url, data=body, timeout=30)


@pytest.mark.slow
def test_make_run_in_a_fresh_clone_serves_seeded_feeds_and_prints_the_admin_login(
    tmp_path: Path,
) -> None:
    if not (shutil.which("make") and shutil.which("git") and (ROOT / ".git").exists()):
        pytest.skip("needs make, git and a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # The virtualenv this suite runs in stands in for the one `make run` would create;
    # `-o` keeps make from reinstalling into it.
    (clone / ".venv").symlink_to(ROOT / ".venv")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    environment.update(FLASK_RUN_HOST="127.0.0.1", FLASK_RUN_PORT=str(port))
    process = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "run"],
        cwd=clone,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make and flask in a group of their own, ended together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"{base}/openactive/feeds/session-series") as r:
                    page = json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline, "make run did not bring the app up"
                time.sleep(0.5)
        assert len(page["items"]) == 40
        assert {i["data"]["@type"] for i in page["items"] if "data" in i} == {"SessionSeries"}
        for feed in ("scheduled-sessions", "facility-uses", "facility-use-slots"):
            with urllib.request.urlopen(f"{base}/openactive/feeds/{feed}") as response:
                assert json.load(response)["items"], feed
        with urllib.request.urlopen(f"{base}/") as response:
            assert "facility-use-slots" in response.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    login = re.search(
        rf"Admin: http://127\.0\.0\.1:{port}/admin/ - user 'admin', password '([^']+)'", output
    )
    assert login, output
    password = login.group(1)
    assert (clone / "instance" / "admin-password").read_text().strip() == password
    assert (clone / "instance" / "admin-password").stat().st_mode & 0o077 == 0

    # The printed password logs in (the app started again on the same instance folder).
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "example_app", "run", "--port", str(port)],
        cwd=clone,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                token = csrf_token(_get(opener, f"{base}/admin/login").read().decode())
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        response = _get(
            opener,
            f"{base}/admin/login",
            {"csrf_token": token, "username": "admin", "password": password},
        )
        assert response.url == f"{base}/admin/sessions"
        assert "Scheduled sessions" in response.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
