"""Validate the example app's dataset site with OpenActive's data-model-validator, offline.

Usage: python -m conformance.check_dataset_site
Serves the example app, fetches its dataset site and one organisation's site as
OpenActive's test suite does (GET, then the JSON-LD of the page), checks that HEAD answers
200 and that ``@id`` is the URL fetched, and validates the JSON-LD in ``DatasetSite``
mode. Fails on any failure-level message and on any URL the validator wanted that the
offline cache lacked. Writes the report to test-output/data-model-validator-dataset-site.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import typing as t
import urllib.request
from pathlib import Path

from .dmv_cache import fill
from .serve import example_app
from .serve import ROOT


def validate(
    mode: str, documents: dict[str, t.Any], report: Path | None = None
) -> dict[str, t.Any]:
    """Run the data-model-validator in ``mode`` on each named document.

    Returns ``{"results": [{"name", "failures", "warnings"}], "misses": [URLs]}``.
    """
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        cache = fill(work / "cache")
        source = work / "documents.json"
        source.write_text(json.dumps([{"name": k, "data": v} for k, v in documents.items()]))
        output = report or work / "report.json"
        subprocess.run(
            [
                "node",
                str(ROOT / "conformance" / "data-model-validate.js"),
                mode,
                str(cache),
                str(source),
                str(output),
            ],
            check=True,
            cwd=ROOT,
        )
        return t.cast(dict[str, t.Any], json.loads(output.read_text()))


def jsonld_of(html: str, url: str) -> t.Any:
    """The page's JSON-LD blocks, extracted as a consumer would (extruct)."""
    import extruct

    return extruct.extract(html, base_url=url, syntaxes=["json-ld"])["json-ld"]


#: The example app's own site, and one organisation's site listing its own feeds.
SITES = ["/openactive/", "/openactive/organisations/2/"]


def main() -> int:
    output = ROOT / "test-output"
    output.mkdir(exist_ok=True)
    failed = False
    pages: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory() as directory,
        example_app(f"sqlite:///{directory}/conformance.sqlite3") as base,
    ):
        for path in SITES:
            url = base + path
            head = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(head, timeout=30) as response:
                print(f"HEAD {url}: {response.status} {response.headers['Content-Type']}")
                failed |= response.status != 200
            with urllib.request.urlopen(url, timeout=30) as response:
                pages[url] = response.read().decode("utf-8")
    datasets = {}
    for url, html in pages.items():
        blocks = jsonld_of(html, url)
        if len(blocks) != 1:
            print(f"FAILURE: {url} has {len(blocks)} JSON-LD blocks, not one")
            return 1
        dataset = datasets[url] = blocks[0]
        if dataset.get("@id") != url or dataset.get("url") != url:
            print(f"FAILURE: @id {dataset.get('@id')!r} and url must be {url!r}")
            failed = True
    result = validate("DatasetSite", datasets, output / "data-model-validator-dataset-site.json")
    for miss in result["misses"]:
        print(f"  FAILURE: the validator wanted {miss}, which the offline cache lacks")
        failed = True
    for item in result["results"]:
        for failure in item["failures"]:
            print(f"  FAILURE [{failure['type']}] {failure['path']}: {failure['message'][:200]}")
            failed = True
        for warning in item["warnings"]:
            print(f"  warning [{warning['type']}] {warning['path']}: {warning['message'][:160]}")
    for url, dataset in datasets.items():
        names = ", ".join(d["identifier"] for d in dataset.get("distribution", []))
        print(f"dataset site {url}: {len(dataset.get('distribution', []))} feed(s) ({names})")
    print("data-model-validator (DatasetSite): " + ("FAILED" if failed else "no failures"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
