"""The activity list and facility types: files, the cache's time to live, lists not to be had."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from rpde_publisher.openactive.checks import check_item
from rpde_publisher.openactive.vocabulary import load_list
from rpde_publisher.openactive.vocabulary import Vocabularies

from .openactive_items import example

DATA = Path(__file__).parent / "data"
ACTIVITY = "https://openactive.io/activity-list#5e78bcbe-36db-425a-9064-bf96d09cc351"


def test_files_give_the_concepts() -> None:
    vocabularies = Vocabularies.from_files(
        DATA / "activity-list.jsonld", DATA / "facility-types.jsonld"
    )
    assert vocabularies.activities is not None and vocabularies.facility_types is not None
    assert vocabularies.activities.labels[ACTIVITY] == "Bodypump™"
    assert vocabularies.activities.scheme == "https://openactive.io/activity-list"
    assert len(vocabularies.facility_types.labels) == 35


def test_a_fetched_list_is_cached_for_its_time_to_live(tmp_path: Path) -> None:
    source = tmp_path / "list.jsonld"
    shutil.copy(DATA / "activity-list.jsonld", source)
    cache = tmp_path / "cache"
    first = load_list(source.as_uri(), cache_dir=cache)
    assert first is not None and ACTIVITY in first.labels
    source.write_text('{"id": "x", "concept": []}')
    assert load_list(source.as_uri(), cache_dir=cache) == first  # fresh: not fetched again
    assert load_list(source.as_uri(), cache_dir=cache, ttl=0).labels == {}  # stale: fetched
    source.unlink()
    stale = load_list(source.as_uri(), cache_dir=cache, ttl=0)
    assert stale is not None and stale.labels == {}  # unreachable: the stale copy serves


def test_a_list_that_cannot_be_had_is_logged_and_its_check_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        missing = load_list((tmp_path / "absent.jsonld").as_uri(), cache_dir=tmp_path)
        broken = Vocabularies.from_files(os.devnull, None)
    assert missing is None and broken.activities is None
    assert "cannot be fetched" in caplog.text and "cannot be read" in caplog.text
    data = example("sessionseries_example_1.json")
    data["activity"][0]["@id"] = "https://openactive.io/activity-list#not-a-concept"
    assert not [
        m for m in check_item(data, vocabularies=Vocabularies()) if m.path == "$.activity[0]"
    ]


def test_a_wrong_label_warns_and_another_scheme_fails() -> None:
    vocabularies = Vocabularies.from_files(DATA / "activity-list.jsonld")
    data = example("sessionseries_example_1.json")
    data["activity"][0]["prefLabel"] = "Zumba"
    found = [
        (m.severity, m.rule)
        for m in check_item(data, vocabularies=vocabularies)
        if m.path == "$.activity[0]"
    ]
    assert found == [("warning", "activity_not_in_activity_list")]
    data["activity"][0] = {
        "@type": "Concept",
        "@id": "https://example.org/mine#1",
        "inScheme": "https://example.org/mine",
    }
    found = [
        (m.severity, m.rule)
        for m in check_item(data, vocabularies=vocabularies)
        if m.path == "$.activity[0]"
    ]
    assert found == [("failure", "use_official_activity_list")]
