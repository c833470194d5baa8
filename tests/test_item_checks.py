"""check_item vs the Node data-model-validator on the parity corpus; the check-items command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.dmv_cache import fill
from rpde_publisher.openactive.checks import check_item
from rpde_publisher.openactive.feed_mode import RPDE_FEED
from rpde_publisher.openactive.vocabulary import Vocabularies

from .openactive_items import BROKEN
from .openactive_items import BROKEN_OFFLINE
from .openactive_items import example
from .openactive_items import GOOD

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
VOCABULARIES = Vocabularies.from_files(
    DATA / "activity-list.jsonld", DATA / "facility-types.jsonld"
)
#: Node failures that only mean "offline": it could not load schema.org or the beta namespace.
OFFLINE = {"file_not_found", "experimental_fields_not_checked"}
DOCUMENTS = [{"name": name, "data": example(name)} for name in GOOD] + BROKEN


@pytest.fixture(scope="module")
def node_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    directory = tmp_path_factory.mktemp("dmv")
    (directory / "in.json").write_text(json.dumps(DOCUMENTS))
    subprocess.run(
        [
            "node",
            "conformance/data-model-validate.js",
            "RPDEFeed",
            str(fill(directory / "cache")),
            str(directory / "in.json"),
            str(directory / "out.json"),
        ],
        cwd=ROOT,
        check=True,
    )
    out = json.loads((directory / "out.json").read_text())
    return {r["name"]: r["failures"] for r in out["results"]} | {
        f"warnings:{r['name']}": r["warnings"] for r in out["results"]
    }


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d["name"] for d in DOCUMENTS])
def test_every_node_failure_is_ours(document: dict, node_results: dict) -> None:
    ours = {
        m.path
        for m in check_item(document["data"], vocabularies=VOCABULARIES)
        if m.severity == "failure"
    }
    theirs = {f["path"] for f in node_results[document["name"]] if f["type"] not in OFFLINE}
    assert theirs <= ours
    if document["name"] in GOOD:
        assert ours == set()
    else:
        assert theirs, "a broken item Node does not fail tests nothing"


@pytest.mark.parametrize("name", GOOD)
def test_missing_recommended_properties_are_those_node_warns_of(
    name: str, node_results: dict
) -> None:
    """Warnings are not held to parity in general, but a missing recommended property is
    (an ``@id`` counts for ``id``, as does a value inherited from the parent); inside
    ``beta:`` extension properties, which ours does not model, it is not compared."""
    ours = {
        m.path
        for m in check_item(example(name), vocabularies=VOCABULARIES)
        if m.rule == "missing_recommended_field"
    }
    theirs = {
        w["path"]
        for w in node_results[f"warnings:{name}"]
        if w["type"] == "missing_recommended_field" and "beta:" not in w["path"]
    }
    assert ours == theirs


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "rpde_publisher",
            "check-items",
            "--activity-list",
            str(DATA / "activity-list.jsonld"),
            "--facility-types",
            str(DATA / "facility-types.jsonld"),
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_command_single_array_page_and_stdin(tmp_path: Path) -> None:
    good = example("scheduledsession_example_1.json")
    bad = BROKEN[0]["data"]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(good))
    assert run(str(single)).returncode == 0
    array = tmp_path / "many.json"
    array.write_text(json.dumps([good, bad]))
    result = run("--json", str(array))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {
        "index": 1,
        "path": "$.name",
        "severity": "failure",
        "rule": "missing_required_field",
    }.items() <= next(line for line in lines if line["path"] == "$.name").items()
    assert all(set(line) == {"index", "path", "severity", "rule", "message"} for line in lines)
    page = {"items": [{"state": "updated", "data": good}, {"state": "deleted"}], "next": "x"}
    assert run("-", stdin=json.dumps(page)).returncode == 0


def test_command_refuses_what_is_not_items(tmp_path: Path) -> None:
    assert run("-", stdin="not json").returncode == 2
    result = run("-", stdin='{"hello": 1}')
    assert result.returncode == 2 and "RPDE page" in result.stderr


def test_the_feed_mode_table_is_the_pinned_models() -> None:
    models = ROOT / "node_modules" / "@openactive" / "data-models" / "versions" / "2.x" / "models"
    expected = {}
    for path in sorted(models.glob("*.json")):
        model = json.loads(path.read_text())
        mode = model.get("validationMode", {}).get("RPDEFeed")
        if mode:
            entry = {}
            if mode in model.get("imperativeConfiguration", {}):
                entry["model"] = model["imperativeConfiguration"][mode]
            if mode in model.get("imperativeConfigurationWithContext", {}):
                entry["context"] = model["imperativeConfigurationWithContext"][mode]
            expected[model["type"]] = entry
    assert RPDE_FEED == expected


def test_command_plain_output_names_item_path_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([example("slot_example_1.json"), BROKEN[0]["data"]]))
    result = run(str(bad))
    assert result.returncode == 1
    assert "item 1 $.name: failure [missing_required_field]" in result.stdout


def test_an_offer_taking_prepayment_needs_a_channel_for_it() -> None:
    (document,) = BROKEN_OFFLINE
    messages = check_item(document["data"], vocabularies=VOCABULARIES)
    assert ("$.offers[0].availableChannel", "failure", "field_not_in_defined_values") in {
        (m.path, m.severity, m.rule) for m in messages
    }


@pytest.mark.parametrize(
    "odd",
    [{"x": 1}, ["x"], [{}], 5, None, {"@type": ["Place"]}],
    ids=["object", "array", "array-of-empty", "number", "null", "listed-type"],
)
def test_odd_values_fail_and_never_raise(odd: object) -> None:
    data = example("sessionseries_example_1.json")
    data["activity"][0]["inScheme"] = odd
    data["location"]["openingHoursSpecification"][0]["dayOfWeek"] = [odd]
    data["location"]["geo"] = odd
    failures = {
        m.path for m in check_item(data, vocabularies=VOCABULARIES) if m.severity == "failure"
    }
    assert "$.location.openingHoursSpecification[0].dayOfWeek[0]" in failures
    assert any(path.startswith("$.location.geo") for path in failures)
