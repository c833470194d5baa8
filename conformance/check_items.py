"""Run OpenActive's data-model-validator on every item of every example feed; fail on any message.

Usage: python -m conformance.check_items

Starts the example app on a fresh SQLite database, streams changes into it with
``flask demo simulate`` (so edited, cancelled and newly added items are checked too),
walks each feed to its last page as a consumer would, and validates the data of every
live item in the consumer's copy, in RPDEFeed mode, offline (the remote JSON the
validator loads comes from ``conformance/dmv_cache.py``). Fails on any failure-level
message, on any warning (a missing recommended property, a deprecated one: the example
app publishes complete data), on any URL the validator wanted that the cache lacked, and
on a feed with no items. Prints failures one by one and warnings grouped by feed, kind
and path, with a count and one item to look at. Writes a summary to
test-output/data-model-validator.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import typing as t
import urllib.request
from collections import Counter
from pathlib import Path

from .dmv_cache import fill
from .serve import example_app
from .serve import ROOT

FEEDS = ["session-series", "scheduled-sessions", "facility-uses", "facility-use-slots"]
SIMULATED_CHANGES = 150
#: Items per node process; each process loads the validator once.
CHUNK_SIZE = 1000
PARALLEL = 2


def walk(url: str) -> dict[str, dict[str, object]]:
    """A consumer's copy of the feed at ``url``: the last state of every item."""
    copy: dict[str, dict[str, object]] = {}
    while True:
        with urllib.request.urlopen(url, timeout=60) as response:
            page = json.load(response)
        for item in page["items"]:
            copy[str(item["id"])] = item
        if not page["items"]:
            return copy
        url = page["next"]


def simulate(database_url: str, count: int) -> None:
    env = {**os.environ, "FLASK_APP": "example_app", "FLASK_SQLALCHEMY_DATABASE_URI": database_url}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "demo",
            "simulate",
            "--rate",
            "0",
            "--seed",
            "1",
            "--count",
            str(count),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )


def validate(documents: list[dict[str, object]], directory: Path) -> dict[str, list[t.Any]]:
    """Validate ``documents`` in chunks, a few node processes at a time; merge the results."""
    cache = fill(directory / "cache")
    chunks = [documents[i : i + CHUNK_SIZE] for i in range(0, len(documents), CHUNK_SIZE)]
    results: list[t.Any] = []
    misses: set[str] = set()
    for start in range(0, len(chunks), PARALLEL):
        running = []
        for number, chunk in enumerate(chunks[start : start + PARALLEL], start):
            source, output = directory / f"in-{number}.json", directory / f"out-{number}.json"
            source.write_text(json.dumps(chunk))
            command = [
                "node",
                str(ROOT / "conformance" / "data-model-validate.js"),
                "RPDEFeed",
                str(cache),
                str(source),
                str(output),
            ]
            running.append((subprocess.Popen(command, cwd=ROOT), output))
        for process, output in running:
            if process.wait() != 0:
                raise RuntimeError(f"the data-model-validator exited with {process.returncode}")
            report = json.loads(output.read_text())
            results += report["results"]
            misses.update(report["misses"])
    return {"results": results, "misses": sorted(misses)}


def assess(report: dict[str, list[t.Any]]) -> tuple[list[str], dict[str, t.Any]]:
    """The problems in a :func:`validate` report, one line each (none when it passes), and
    its summary: every failure and cache miss, and warnings grouped by feed (the part of
    an item's name before its ``/``), kind and path, with a count and an example item."""
    problems: list[str] = []
    failures = [(r["name"], f) for r in report["results"] for f in r["failures"]]
    warnings: Counter[tuple[str, str, str]] = Counter()
    #: The first item showing each kind of warning, and the validator's message for it.
    examples: dict[tuple[str, str, str], tuple[str, str]] = {}
    for result in report["results"]:
        for warning in result["warnings"]:
            key = (result["name"].split("/")[0], warning["type"], warning["path"])
            warnings[key] += 1
            examples.setdefault(key, (result["name"], warning["message"]))
    for name, failure in failures:
        message = failure["message"][:200]
        problems.append(f"FAILURE {name} [{failure['type']}] {failure['path']}: {message}")
    for url in report["misses"]:
        problems.append(f"FAILURE: the validator wanted {url}, which the offline cache lacks")
    for key, count in sorted(warnings.items()):
        feed, kind, path = key
        example, message = examples[key]
        first_line = message.strip().splitlines()[0][:160] if message.strip() else ""
        problems.append(f"WARNING x{count} {feed} [{kind}] {path} (e.g. {example}): {first_line}")
    summary = {
        "items": len(report["results"]),
        "failure_count": len(failures),
        "warning_count": sum(warnings.values()),
        "failures": [{"item": name, **failure} for name, failure in failures],
        "misses": report["misses"],
        "warnings": [
            {"feed": k[0], "type": k[1], "path": k[2], "count": n, "example": examples[k][0]}
            for k, n in sorted(warnings.items())
        ],
    }
    return problems, summary


def our_checks(documents: list[dict[str, t.Any]]) -> list[str]:
    """rpde_publisher's own item checks over the same items: every failure or warning, a
    line each (the example app must give none, as it gives the Node validator none)."""
    from rpde_publisher.openactive.checks import check_item
    from rpde_publisher.openactive.vocabulary import Vocabularies

    data = ROOT / "tests" / "data"
    lists = Vocabularies.from_files(data / "activity-list.jsonld", data / "facility-types.jsonld")
    return [
        f"OURS {message.severity.upper()} {document['name']} [{message.rule}] {message.path}:"
        f" {message.message}"
        for document in documents
        for message in check_item(document["data"], vocabularies=lists)
        if message.severity != "suggestion"
    ]


def main() -> int:
    output = ROOT / "test-output"
    output.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        database_url = f"sqlite:///{directory}/conformance.sqlite3"
        with example_app(database_url) as base:
            simulate(database_url, SIMULATED_CHANGES)
            copies = {feed: walk(f"{base}/openactive/feeds/{feed}") for feed in FEEDS}
        documents = [
            {"name": f"{feed}/{item_id}", "data": item["data"]}
            for feed, copy in copies.items()
            for item_id, item in copy.items()
            if item["state"] == "updated"
        ]
        report = validate(documents, directory)
    problems, summary = assess(report)
    ours = our_checks(documents)
    problems += ours
    for feed, copy in copies.items():
        live = sum(1 for item in copy.values() if item["state"] == "updated")
        print(f"{feed}: {live} live item(s) validated, {len(copy) - live} deleted")
        if not live:
            problems.append(f"FAILURE: {feed} has no live items to validate")
    for line in problems:
        print(f"  {line}")
    (output / "data-model-validator.json").write_text(json.dumps(summary, indent=2))
    counts = (
        f"{summary['failure_count']} failure(s), {summary['warning_count']} warning(s),"
        f" {len(summary['misses'])} cache miss(es)"
    )
    verdict = "FAILED" if problems else "passed"
    print(f"data-model-validator: {len(documents)} items, {counts}: {verdict}")
    print(f"rpde_publisher's item checks: {len(ours)} failure(s) or warning(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
