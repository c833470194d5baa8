"""Our validator against OpenActive's rpde-validator, on the same broken feeds over HTTP.

For every fault OpenActive's tool reports, ours must report it too (mapped through each
rule's ``openactive`` equivalents). The comparison is written to
``test-output/validator-comparison.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rpde_publisher.harvest import Harvester
from rpde_publisher.harvest import RetryPolicy
from rpde_publisher.validate import Report
from rpde_publisher.validate import RULES
from rpde_publisher.validate import validate_feed

from . import broken_feeds
from .live import serve
from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"
#: OpenActive's validator warns about the real last page's cache header: a known false
#: positive (it loads every walked page as if it were not the last).
KNOWN_FALSE_POSITIVE = "HttpCacheHeaderRule:missing_cache_control"


def _node_validator() -> str:
    node = shutil.which("node")
    installed = (ROOT / "node_modules" / "@openactive" / "rpde-validator").is_dir()
    if node is None or not installed:
        message = "node or node_modules/@openactive/rpde-validator missing (make node_modules)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return node


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _ours(url: str) -> Report:
    retry = RetryPolicy(unavailable_wait=(0, 0), error_wait=0, attempts=2)
    with Harvester(url, retry=retry, timeout=10) as harvester:
        return validate_feed(url, harvester)


def _equivalents() -> dict[str, set[str]]:
    mapping: dict[str, set[str]] = {}
    for rule in RULES:
        for name in rule.openactive:
            mapping.setdefault(name, set()).add(rule.id)
    return mapping


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    node = _node_validator()
    report_file = tmp_path_factory.mktemp("rpde") / "openactive.json"
    names = [name for name, fixture in broken_feeds.FIXTURES.items() if fixture.openactive]
    refused = f"http://127.0.0.1:{free_port()}/feeds/refused"
    # Each tool gets its own server: some fixtures change with every request they see.
    with serve(broken_feeds.make_app()) as base:
        urls = [f"{base}/feeds/{name}" for name in names]
        subprocess.run(
            [
                node,
                str(ROOT / "conformance" / "rpde-validate.js"),
                str(report_file),
                *urls,
                refused,
            ],
            check=True,
            cwd=ROOT,
            timeout=600,
            env={**os.environ, "RPDE_VALIDATOR_TIMEOUT_MS": "5000"},
        )
    openactive = json.loads(report_file.read_text())
    results: dict[str, t.Any] = {}
    with serve(broken_feeds.make_app()) as base:
        for name, url in zip(names, urls, strict=True):
            results[name] = {"openactive": openactive[url], "ours": _ours(f"{base}/feeds/{name}")}
    results["refused"] = {"openactive": openactive[refused], "ours": _ours(refused)}
    OUTPUT.mkdir(exist_ok=True)
    summary = {
        name: {
            "openactive": sorted(
                {f"{e['rule']}:{e['type']}" for e in r["openactive"]["failures"]}
                | {f"{e['rule']}:{e['type']}" for e in r["openactive"]["warnings"]}
            ),
            "ours": sorted(r["ours"].rules_reported()),
        }
        for name, r in results.items()
    }
    (OUTPUT / "validator-comparison.json").write_text(json.dumps(summary, indent=2) + "\n")
    return results


def _faults(result: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """OpenActive's failures and warnings, less its known false positive."""
    ours: Report = result["ours"]
    last_page = _path(ours.summary.last_url) if ours.summary.last_url else None
    faults = []
    for entry in result["openactive"]["failures"] + result["openactive"]["warnings"]:
        key = f"{entry['rule']}:{entry['type']}"
        if key == KNOWN_FALSE_POSITIVE and _path(entry["page"]) == last_page:
            continue
        faults.append({**entry, "key": key})
    return faults


@pytest.mark.parametrize(
    "name", sorted(n for n, f in broken_feeds.FIXTURES.items() if f.openactive)
)
def test_every_fault_openactive_reports_we_report_too(
    comparison: dict[str, t.Any], name: str
) -> None:
    result = comparison[name]
    ours: Report = result["ours"]
    reported = ours.rules_reported()
    equivalents = _equivalents()
    # A page that answered an error status is one fault: its status. OpenActive's tool
    # also checks the error page's body and headers as if it were a feed page.
    failed_pages = {
        _path(e["page"]) for e in result["openactive"]["failures"] if e["rule"] == "HttpStatusRule"
    }
    missed = []
    for fault in _faults(result):
        if _path(fault["page"]) in failed_pages:
            ours_rules = {"http-status"}
        else:
            ours_rules = equivalents.get(fault["key"], set())
        assert ours_rules, f"no rule of ours is mapped to OpenActive's {fault['key']}"
        if not ours_rules & reported:
            missed.append((fault["key"], fault["page"], fault["message"][:120]))
    assert not missed, f"{name}: OpenActive reports faults ours does not: {missed}"


def test_openactive_walked_every_page(comparison: dict[str, t.Any]) -> None:
    """A refused connection reads as 'no errors' there: make sure it really walked."""
    for name, result in comparison.items():
        if name == "refused":
            continue
        assert result["openactive"]["pages"] >= result["ours"].summary.pages, name


def test_the_correct_feeds_pass_both_validators(comparison: dict[str, t.Any]) -> None:
    for name in ("good", "good-change-number"):
        assert comparison[name]["openactive"]["failures"] == [], name
        assert _faults(comparison[name]) == [], name
        assert comparison[name]["ours"].findings == [], name


def test_what_only_ours_catches(comparison: dict[str, t.Any]) -> None:
    """The faults OpenActive's validator cannot see, documented in docs/validating.md."""
    only_ours = {
        "unsorted-page": "ordering",
        "unstable-last-page": "last-page-stable",
        "vanishing-item": "rewalk",
        "refused": "http-status",
    }
    for name, rule in only_ours.items():
        assert comparison[name]["openactive"]["failures"] == [], name
        assert rule in comparison[name]["ours"].rules_failed(), name
