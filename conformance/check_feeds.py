"""Run OpenActive's rpde-validator over every page of every example feed (and of one
organisation's feeds); fail on any failure.

Usage: python -m conformance.check_feeds
Prints every warning (the one about the real last page's cache header is a known false
positive of the validator) and writes the full report to test-output/rpde-validator.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request

from .serve import example_app
from .serve import ROOT

FEEDS = ["session-series", "scheduled-sessions", "facility-uses", "facility-use-slots"]
#: One organisation's own feeds are walked too (organisation 2 of the seed data).
ORGANISATION_FEEDS = [f"organisations/2/feeds/{name}" for name in FEEDS]
KNOWN_FALSE_POSITIVE = "missing_cache_control"  # cache header of the real last page


def main() -> int:
    output = ROOT / "test-output"
    output.mkdir(exist_ok=True)
    report = output / "rpde-validator.json"
    with (
        tempfile.TemporaryDirectory() as directory,
        example_app(f"sqlite:///{directory}/conformance.sqlite3") as base,
    ):
        urls = [f"{base}/openactive/feeds/{name}" for name in FEEDS]
        urls += [f"{base}/openactive/{path}" for path in ORGANISATION_FEEDS]
        expected_pages = {url: _count_pages(url) for url in urls}
        subprocess.run(
            ["node", str(ROOT / "conformance" / "rpde-validate.js"), str(report), *urls],
            check=True,
            cwd=ROOT,
        )
    results = json.loads(report.read_text())
    failed = False
    for url, result in results.items():
        print(f"{url}: {result['pages']} page(s) walked by rpde-validator")
        # The validator reports a refused connection as no errors at all: make sure it
        # really walked the feed (every page, plus its two synthetic last-page requests).
        if result["pages"] < expected_pages[url]:
            print(f"  FAILURE: walked {result['pages']} pages, the feed has {expected_pages[url]}")
            failed = True
        for failure in result["failures"]:
            print(f"  FAILURE [{failure['type']}] {failure['page']}: {failure['message']}")
            failed = True
        for warning in result["warnings"]:
            note = " (known false positive)" if warning["type"] == KNOWN_FALSE_POSITIVE else ""
            print(
                f"  warning [{warning['type']}]{note} {warning['page']}: {warning['message'][:160]}"
            )
    print("rpde-validator: " + ("FAILED" if failed else "no failures"))
    return 1 if failed else 0


def _count_pages(url: str) -> int:
    pages = 0
    while True:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        pages += 1
        if not body["items"] and body["next"] == url:
            return pages
        url = body["next"]


if __name__ == "__main__":
    sys.exit(main())
