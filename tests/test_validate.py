"""``validate``: every broken feed caught by the right rule, correct feeds clean, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from rpde_publisher.harvest import Harvester
from rpde_publisher.harvest import RetryPolicy
from rpde_publisher.harvest import wsgi_client
from rpde_publisher.validate import format_report
from rpde_publisher.validate import Report
from rpde_publisher.validate import RULES
from rpde_publisher.validate import validate_feed
from rpde_publisher.validate.rules import DATABASE_RULES

from . import broken_feeds
from .live import serve
from .models import make_app
from .walking import settle

ROOT = Path(__file__).resolve().parent.parent
QUICK = RetryPolicy(unavailable_wait=(0, 0), error_wait=0, attempts=2)
FAST_OPTIONS = ["--retries", "2", "--retry-wait", "0", "--no-progress"]


def validate_fixture(name: str) -> Report:
    with wsgi_client(broken_feeds.make_app()) as client:
        harvester = Harvester("unused", client=client, retry=QUICK)
        return validate_feed(f"http://localhost/feeds/{name}", harvester)


@pytest.mark.parametrize("name", sorted(broken_feeds.FIXTURES))
def test_each_broken_feed_is_caught_by_its_rule(name: str) -> None:
    fixture = broken_feeds.FIXTURES[name]
    report = validate_fixture(name)
    missing = fixture.catches - report.rules_reported()
    assert not missing, (
        f"{name} ({fixture.story}) not caught by {missing}:\n{format_report(report)}"
    )
    unexpected = report.rules_failed() - fixture.catches - fixture.also
    assert not unexpected, f"{name} failed other rules {unexpected}:\n{format_report(report)}"
    assert report.ok == (not report.rules_failed())
    if not fixture.catches:
        assert report.findings == [], format_report(report)


def test_every_rule_but_the_database_ones_has_a_broken_feed() -> None:
    caught = set().union(*(f.catches for f in broken_feeds.FIXTURES.values()))
    rules = {rule.id for rule in RULES} - set(DATABASE_RULES)
    assert rules == caught


# Registered feeds: in-process, compared with the database ------------------------------


def _populate(session: Session, models: t.Any) -> None:
    place = models.Place(name="Main pool")
    series = [models.Series(name=f"Swim {i}", place=place) for i in range(13)]
    session.add_all(series)
    session.add_all(models.Facility(id=f"court {i}&{i}", name=f"Court {i}") for i in range(7))
    changes = [models.Change(name=f"change {i}") for i in range(9)]
    session.add_all(changes)
    session.commit()
    session.delete(series[0])
    session.delete(changes[2])
    session.delete(session.get(models.Facility, "court 1&1"))
    series[4].offers.append(models.Offer(price=4))
    session.commit()
    settle(session.get_bind())


def _cli(app: t.Any, *args: str) -> t.Any:
    return CliRunner().invoke(args=["rpde", "validate", *args], obj=None, cli=app.cli)


def test_registered_feeds_pass_with_zero_failures_on_each_database(
    tables: t.Any, rpde: t.Any, models: t.Any
) -> None:
    app = make_app(tables, rpde, RPDE_PAGE_SIZE=4)
    with Session(tables) as session:
        _populate(session, models)
    for feed in rpde.feeds:
        result = app.test_cli_runner().invoke(
            args=["rpde", "validate", feed.name, "--json", *FAST_OPTIONS]
        )
        report = json.loads(result.output)
        assert result.exit_code == 0, result.output
        assert report["failures"] == 0, result.output
        assert report["summary"]["database_items"] > 0
        assert report["summary"]["rewalk_pages"] == report["summary"]["pages"]
        assert set(report["rules"]) <= {"page-size", "openactive-data"}, result.output
        assert report["skipped"] == {}


def test_the_example_apps_feeds_pass_with_zero_failures(tmp_path: Path) -> None:
    from example_app import create_app
    from example_app.feeds import rpde

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/example.sqlite3"})
    runner = app.test_cli_runner()
    for feed in rpde.feeds:
        result = runner.invoke(args=["rpde", "validate", feed.name, *FAST_OPTIONS])
        assert result.exit_code == 0, result.output
        assert "0 failure(s), 0 warning(s): OK" in result.output
        assert "live item(s) compared" in result.output


class RewritePages:
    """A proxy layer between feed and consumer that changes each page's items."""

    def __init__(
        self, app: t.Any, rewrite: t.Callable[[dict[str, t.Any]], dict[str, t.Any] | None]
    ) -> None:
        self.app, self.rewrite = app, rewrite

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        kept: dict[str, t.Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> None:
            kept["status"], kept["headers"] = status, headers

        body = json.loads(b"".join(self.app(environ, keep)))
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            body["items"] = [new for new in map(self.rewrite, body["items"]) if new is not None]
        headers = [(k, v) for k, v in kept["headers"] if k.lower() != "content-length"]
        start_response(kept["status"], headers)
        return [json.dumps(body).encode()]


def test_an_item_lost_on_the_way_is_found_missing_by_the_database_comparison(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=4)
    with Session(sqlite_engine) as session:
        _populate(session, models)
    # A lossy layer drops item 8 (mid-page, so next still matches the last item).
    app.wsgi_app = RewritePages(app.wsgi_app, lambda item: None if item["id"] == 8 else item)
    result = app.test_cli_runner().invoke(
        args=["rpde", "validate", "session-series", *FAST_OPTIONS]
    )
    assert result.exit_code == 1
    assert "FAILED  database-skipped" in result.output
    assert "ids 8" in result.output
    # Nothing in the pages themselves gives the loss away: only the database does.
    failed = {line.split()[1] for line in result.output.splitlines() if line.startswith("FAILED")}
    assert failed == {"database-skipped"}


def test_a_lost_tombstone_is_found_by_the_database_comparison(
    sqlite_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=4)
    with Session(sqlite_engine) as session:
        session.add_all(models.Series(name=f"Swim {i}") for i in range(6))
        session.commit()
        session.delete(session.get(models.Series, 3))
        session.commit()

    def stale(item: dict[str, t.Any]) -> dict[str, t.Any]:
        # A stale cache layer serves item 3 as it was before it was deleted.
        if item["id"] == 3:
            return {**item, "state": "updated", "data": {"id": 3, "name": "Swim 2"}}
        return item

    app.wsgi_app = RewritePages(app.wsgi_app, stale)
    result = app.test_cli_runner().invoke(
        args=["rpde", "validate", "session-series", "--json", *FAST_OPTIONS]
    )
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert set(report["rules"]) - {"page-size", "deleted-items", "openactive-data"} == {
        "database-skipped"
    }
    [finding] = report["rules"]["database-skipped"]
    assert "deleted" in finding["message"] and "ids 3" in finding["message"]


def test_an_embedded_row_changed_outside_the_orm_is_stale(
    db_engine: t.Any, models: t.Any, rpde: t.Any
) -> None:
    models.Base.metadata.drop_all(db_engine)
    models.Base.metadata.create_all(db_engine)
    try:
        app = make_app(db_engine, rpde, RPDE_PAGE_SIZE=4)
        with Session(db_engine) as session:
            _populate(session, models)
            # A raw UPDATE of an embedded table moves no series: their stored data is old.
            session.execute(text("UPDATE place SET name = 'Renamed pool'"))
            session.commit()
        result = app.test_cli_runner().invoke(
            args=["rpde", "validate", "session-series", *FAST_OPTIONS]
        )
        assert result.exit_code == 1, result.output
        assert "FAILED  database-stale" in result.output
        assert "flask rpde render" in result.output
        # The fix the message names works: re-render, and the feed validates again.
        assert (
            app.test_cli_runner().invoke(args=["rpde", "render", "session-series"]).exit_code == 0
        )
        settle(db_engine)
        again = app.test_cli_runner().invoke(
            args=["rpde", "validate", "session-series", *FAST_OPTIONS]
        )
        assert again.exit_code == 0, again.output
    finally:
        models.Base.metadata.drop_all(db_engine)


# The command line --------------------------------------------------------------------


def test_unknown_target_is_a_usage_error(sqlite_engine: t.Any, models: t.Any, rpde: t.Any) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    result = app.test_cli_runner().invoke(args=["rpde", "validate", "nope"])
    assert result.exit_code == 2
    assert "neither a feed name (events, facility-uses, session-series) nor a URL" in result.output


def test_flask_rpde_validate_takes_a_url(sqlite_engine: t.Any, models: t.Any, rpde: t.Any) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde)
    with serve(broken_feeds.make_app()) as base:
        result = app.test_cli_runner().invoke(
            args=["rpde", "validate", f"{base}/feeds/no-license", *FAST_OPTIONS]
        )
    assert result.exit_code == 1
    assert "FAILED  required-properties" in result.output
    assert "database-skipped: the target is a URL" in result.output


def _python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpde_publisher", "validate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_python_m_rpde_publisher_validate_without_an_app() -> None:
    with serve(broken_feeds.make_app()) as base:
        good = _python_m(f"{base}/feeds/good", "--json")
        broken = _python_m(f"{base}/feeds/greater-or-equal", "--retry-wait", "0")
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["ok"] and report["summary"]["items"] == 1200 and report["summary"]["pages"] == 4
    assert "Validating" in good.stderr, "the progress bar goes to stderr"
    assert broken.returncode == 1
    assert "FAILED  duplicate-items" in broken.stdout
    assert "FAILED  ordering" in broken.stdout


def test_strict_fails_on_warnings_too() -> None:
    with serve(broken_feeds.make_app()) as base:
        lenient = _python_m(f"{base}/feeds/no-cache-control", "--no-progress")
        strict = _python_m(f"{base}/feeds/no-cache-control", "--strict", "--no-progress")
        strict_json = _python_m(f"{base}/feeds/no-cache-control", "--strict", "--json")
        good = _python_m(f"{base}/feeds/good", "--strict", "--no-progress")
    assert lenient.returncode == 0, lenient.stdout
    assert "0 failure(s), 10 warning(s): OK" in lenient.stdout
    assert strict.returncode == 1, strict.stdout
    assert "WARNING cache-control" in strict.stdout
    assert "0 failure(s), 10 warning(s): FAILED (--strict: warnings fail)" in strict.stdout
    report = json.loads(strict_json.stdout)
    assert strict_json.returncode == 1
    assert report["ok"] is False and report["strict"] is True and report["failures"] == 0
    assert good.returncode == 0, good.stdout


def test_flask_rpde_validate_strict(sqlite_engine: t.Any, models: t.Any, rpde: t.Any) -> None:
    models.Base.metadata.create_all(sqlite_engine)
    app = make_app(sqlite_engine, rpde, RPDE_PAGE_SIZE=2)
    with Session(sqlite_engine) as session:
        session.add_all([models.Facility(id=f"court {n}", name=f"Court {n}") for n in range(5)])
        session.commit()
    settle(sqlite_engine)
    runner = app.test_cli_runner()
    lenient = runner.invoke(args=["rpde", "validate", "facility-uses", *FAST_OPTIONS])
    strict = runner.invoke(args=["rpde", "validate", "facility-uses", "--strict", *FAST_OPTIONS])
    # Pages of 2 and no tombstone: warnings only.
    assert lenient.exit_code == 0, lenient.output
    assert strict.exit_code == 1, strict.output
    assert "WARNING deleted-items" in strict.output and "WARNING page-size" in strict.output


def test_an_unreachable_feed_fails_where_openactives_validator_stays_silent() -> None:
    from .servers import free_port

    result = _python_m(
        f"http://127.0.0.1:{free_port()}/feed", "--retry-wait", "0", "--retries", "2"
    )
    assert result.returncode == 1
    assert "FAILED  http-status" in result.stdout
    assert "connection failed" in result.stdout


def test_python_m_rejects_a_feed_name() -> None:
    result = _python_m("session-series")
    assert result.returncode == 2
    assert "absolute URL" in result.stderr


def test_progress_shows_pages_and_items_on_a_terminal() -> None:
    from rpde_publisher.validate.command import _ProgressBar
    from rpde_publisher.validate.walk import Progress

    bar = _ProgressBar("http://x/feed")
    assert bar._describe(Progress("walk", 12, 5400)) == "walk: 12 pages, 5,400 items"


def test_docs_compare_every_rule() -> None:
    docs = (ROOT / "docs" / "validating.md").read_text()
    for rule in RULES:
        assert f"`{rule.id}`" in docs, f"docs/validating.md does not describe {rule.id}"
