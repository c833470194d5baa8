"""Our dataset-site checks against OpenActive's data-model-validator in ``DatasetSite`` mode
(what the Test Suite's validate-feeds runs on the page): on a complete site and on one
broken way after another, both must fail the same documents.

Only our rules of the validator's gate are compared: ``site-id`` (the catalogue's CI) and
``site-discussion`` (its reviewers) are checks the validator does not make. The
comparison is written to ``test-output/dataset-site-comparison.json``.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import typing as t
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from rpde_publisher.validate.dataset_jsonld import check_dataset_jsonld
from rpde_publisher.validate.findings import Severity
from rpde_publisher.validate.site_rules import DATASET_SITE_MODE
from rpde_publisher.validate.site_rules import SITE_RULES_BY_ID

from .models import Models
from .test_validate_site import _EVERY_REQUIRED
from .test_validate_site import _good_jsonld
from .test_validate_site import SITE

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"

#: Broken in other ways than a missing property: each must fail both checkers.
WRONG: dict[str, dict[str, t.Any]] = {
    "licence-cc0": {"license": "https://creativecommons.org/publicdomain/zero/1.0/"},
    "context-string": {"@context": "https://openactive.io/"},
    "date-modified-fraction": {"dateModified": "2026-01-05T09:00:00.123456+00:00"},
    "date-modified-no-zone": {"dateModified": "2026-01-05T09:00:00"},
    "documentation-empty": {"documentation": ""},
    "keywords-empty": {"keywords": []},
    "background-null": {"backgroundImage": None},
    "url-not-a-url": {"url": "not a url"},
}


def _node_validator() -> None:
    installed = (ROOT / "node_modules" / "@openactive" / "data-model-validator").is_dir()
    if shutil.which("node") is None or not installed:
        message = (
            "node or node_modules/@openactive/data-model-validator missing (make node_modules)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def _broken(jsonld: dict[str, t.Any], place: str, key: str) -> dict[str, t.Any]:
    broken = copy.deepcopy(jsonld)
    node: t.Any = broken
    for step in filter(None, place.split(".")):
        node = node[int(step)] if step.isdigit() else node[step]
    del node[key]
    return broken


def test_we_fail_exactly_the_sites_the_data_model_validator_fails(
    sqlite_engine: Engine, models: Models
) -> None:
    _node_validator()
    from conformance.check_dataset_site import validate

    good = _good_jsonld(sqlite_engine, models)
    documents: dict[str, t.Any] = {"complete": good}
    for model, place, key in _EVERY_REQUIRED:
        documents[f"without {place or 'Dataset'}.{key} ({model})"] = _broken(good, place, key)
    for name, change in WRONG.items():
        documents[name] = {**good, **change}
    result = validate("DatasetSite", documents)
    assert result["misses"] == [], "the validator wanted a URL the offline cache lacks"
    # Properties OpenActive's models do not define: the validator looks them up in
    # schema.org's context, which is not available offline; it fails them regardless
    # (field_not_in_spec), as the Test Suite did when we gave it totalItems.
    unknown: dict[str, t.Any] = {"unknown property on the Dataset": {**good, "totalFeeds": 4}}
    with_total = copy.deepcopy(good)
    with_total["distribution"][0]["totalItems"] = 40  # DAD recommends it; the models lack it
    unknown["totalItems on a DataDownload"] = with_total
    extra = validate("DatasetSite", unknown)
    assert set(extra["misses"]) <= {"https://schema.org/"}
    for item in extra["results"]:
        assert any(e["type"] == "field_not_in_spec" for e in item["failures"]), item
    documents.update(unknown)
    result["results"] += extra["results"]
    theirs = {item["name"]: item for item in result["results"]}
    comparison = {}
    for name, document in documents.items():
        ours = [
            f
            for f in check_dataset_jsonld(document, SITE)
            if f.severity is Severity.FAILURE and SITE_RULES_BY_ID[f.rule].gate == DATASET_SITE_MODE
        ]
        comparison[name] = {
            "data-model-validator": [f"{e['type']} {e['path']}" for e in theirs[name]["failures"]],
            "ours": [f"{f.rule}: {f.message}" for f in ours],
        }
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "dataset-site-comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
    assert comparison["complete"] == {"data-model-validator": [], "ours": []}, comparison
    disagree = {
        name: result
        for name, result in comparison.items()
        if bool(result["data-model-validator"]) != bool(result["ours"])
    }
    assert disagree == {}, json.dumps(disagree, indent=2)
