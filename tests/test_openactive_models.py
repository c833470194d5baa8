"""The generated OpenActive building blocks: fresh from the pinned npm package, complete, usable."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest

from rpde_publisher.fingerprints import schema_fingerprint
from rpde_publisher.openactive import models as building_blocks
from rpde_publisher.openactive.models import item_schema
from tools import generate_openactive

DEFINITIONS = json.loads(generate_openactive.DEFINITIONS.read_text(encoding="utf-8"))
MODELS = DEFINITIONS["models"]

#: What an open opportunity feed's items are (issue 17); everything they embed follows.
OPPORTUNITIES = [
    "SessionSeries",
    "ScheduledSession",
    "Event",
    "OnDemandEvent",
    "HeadlineEvent",
    "CourseInstance",
    "FacilityUse",
    "IndividualFacilityUse",
    "Slot",
]
#: Reached from the opportunities only through the booking API's types, or being them.
BOOKING_ROOTS = {"Action", "CustomerAccount", "Lease", "OpenBookingError", "Order", "OrderItem"}
BOOKING_ROOTS |= {"Payment", "Entitlement", "Barcode", "BookingService", "PriceSpecification"}
BOOKING_ROOTS |= {"PropertyValueSpecification"}


def _parent(name: str) -> str | None:
    parent = MODELS[name].get("subClassOf", "")
    return parent[1:] if parent.startswith("#") else None


def _is_booking(name: str) -> bool:
    while name:
        if name in BOOKING_ROOTS:
            return True
        name = _parent(name) or ""
    return False


def _fields(name: str) -> dict[str, t.Any]:
    parent = _parent(name)
    fields = {**(_fields(parent) if parent else {}), **MODELS[name]["fields"]}
    for excluded in MODELS[name].get("shallNotInclude") or ():
        fields.pop(excluded, None)
    return fields


def _required(name: str) -> set[str]:
    while MODELS[name].get("requiredFields") is None and _parent(name):
        name = _parent(name) or ""
    return {"@" + f if f in ("id", "type") else f for f in MODELS[name].get("requiredFields", [])}


def _reachable() -> set[str]:
    seen: set[str] = set()
    todo = list(OPPORTUNITIES)
    while todo:
        name = todo.pop()
        if name in seen or _is_booking(name):
            continue
        seen.add(name)
        todo += [child for child in MODELS if _parent(child) == name]
        for field in _fields(name).values():
            refs = [field.get("model"), *field.get("alternativeModels", [])]
            todo += [ref.split("#", 1)[1] for ref in refs if ref]
    return seen


def test_committed_output_is_what_the_pinned_package_gives() -> None:
    stale = [
        str(path.relative_to(generate_openactive.ROOT))
        for path, text in generate_openactive.outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run `make openactive-models` and commit the result"
    assert generate_openactive.main(["--check"]) == 0


def test_check_mode_reports_a_stale_file_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "openactive"
    shutil.copytree(generate_openactive.DEFINITIONS.parent, package)
    edited = package / "models_sessions.py"
    edited.write_text(edited.read_text(encoding="utf-8").replace("'@type'", "'@tpye'"))
    before = edited.read_text(encoding="utf-8")
    monkeypatch.setattr(generate_openactive, "ROOT", tmp_path)
    monkeypatch.setattr(generate_openactive, "DEFINITIONS", package / "definitions.json")

    assert generate_openactive.main(["--check"]) == 1
    assert edited.read_text(encoding="utf-8") == before
    assert generate_openactive.main([]) == 0
    assert generate_openactive.main(["--check"]) == 0


def test_every_reachable_type_is_a_typed_dict_with_its_required_keys() -> None:
    reachable = _reachable()
    assert set(OPPORTUNITIES) | {"Place", "Offer", "Organization", "Concept"} <= reachable
    assert {"LocationFeatureSpecification", "Toilets", "PartialSchedule", "Brand"} <= reachable
    for name in sorted(reachable):
        block = getattr(building_blocks, name)
        assert name in building_blocks.__all__
        keys = set(block.__annotations__)
        assert block.__required_keys__ == _required(name), name
        assert "@type" in keys and "type" not in keys and "id" not in keys, name
        own = {f for f in _fields(name) if f not in ("id", "type")}
        assert own - keys <= {"hasAccount"}, (name, own - keys)  # CustomerAccount: booking only
        assert keys - own <= {"@id", "@type"}, (name, keys - own)


def test_shall_not_include_properties_are_absent() -> None:
    assert "eventSchedule" in building_blocks.SessionSeries.__annotations__
    assert "eventSchedule" not in building_blocks.ScheduledSession.__annotations__
    assert "altLabel" not in building_blocks.Concept.__annotations__


def test_values_are_typed_from_the_definitions() -> None:
    series = building_blocks.SessionSeries.__annotations__
    assert "Literal['SessionSeries']" in repr(series["@type"])
    assert "EventStatusType" in repr(series["eventStatus"])
    statuses = t.get_args(building_blocks.EventStatusType)
    enum = DEFINITIONS["enums"]["EventStatusType"]
    assert statuses == tuple(enum["namespace"] + value for value in enum["values"])
    assert "https://schema.org/EventScheduled" in statuses
    assert "list[Offer" in repr(series["offers"])
    assert "Place" in repr(series["location"])
    assert "int" in repr(building_blocks.Slot.__annotations__["remainingUses"])


def _typed_dicts() -> dict[str, tuple[str, list[str]]]:
    """Every generated TypedDict, public or a private base: its source and its bases."""
    found = {}
    for path in generate_openactive.DEFINITIONS.parent.glob("*models_*.py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef):
                bases = [base.id for base in node.bases if isinstance(base, ast.Name)]
                found[node.name] = (ast.get_source_segment(source, node) or "", bases)
            elif isinstance(node, ast.Assign) and "TypedDict(" in ast.unparse(node.value):
                name = ast.unparse(node.targets[0])
                found[name] = (ast.get_source_segment(source, node) or "", [])
    return found


def test_deprecated_properties_say_so_where_they_are_declared() -> None:
    deprecated = [
        (name, field)
        for name in _reachable()
        for field, spec in MODELS[name]["fields"].items()
        if "deprecationGuidance" in spec
    ]
    assert deprecated
    typed_dicts = _typed_dicts()
    for name, field in deprecated:
        declared, todo = [], [name]
        while todo:  # the TypedDict itself and every base it inherits, at any depth
            source, bases = typed_dicts[todo.pop()]
            todo += [base for base in bases if base in typed_dicts]
            declared += re.findall(rf"\n((?:    #.*\n)*)    '?{field}'?: ", source)
        assert len(declared) == 1, (name, field)  # each key declared once among its bases
        assert "# Deprecated:" in declared[0], (name, field)


def test_item_schema_adds_the_context_writes_python_values_and_prunes() -> None:
    def render(row: dict[str, t.Any]) -> building_blocks.ScheduledSession:
        return {
            "@type": "ScheduledSession",
            "@id": f"https://example.com/sessions/{row['id']}",
            "startDate": row["start"],
            "duration": timedelta(minutes=90),
            "name": row["name"],
            "leader": [],
        }

    schema = item_schema(render)
    start = datetime(2027, 1, 2, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    data = schema.dump({"id": 7, "start": start, "name": None})

    assert data == {
        "@context": "https://openactive.io/",
        "@type": "ScheduledSession",
        "@id": "https://example.com/sessions/7",
        "startDate": "2027-01-02T08:30:15Z",
        "duration": "PT1H30M",
    }
    assert list(data)[0] == "@context"
    assert schema.dump([{"id": 1, "start": "2027-01-01T10:00:00Z", "name": "A"}], many=True)[0][
        "name"
    ] == "A"
    assert type(schema).__name__ == "RenderSchema"
    assert type(item_schema(render)) is type(schema), "one class per function: feeds agree"


def _render_from(directory: Path, source: str) -> t.Any:
    directory.mkdir()
    (directory / "mapping.py").write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("mapping", directory / "mapping.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render


def test_editing_a_render_function_changes_its_schema_fingerprint(tmp_path: Path) -> None:
    source = "def render(row):\n    return {'@type': 'Event', 'name': row}\n"
    first = schema_fingerprint(item_schema(_render_from(tmp_path / "a", source)))
    again = schema_fingerprint(item_schema(_render_from(tmp_path / "b", source)))
    edited = source.replace("row}", "row.upper()}")
    changed = schema_fingerprint(item_schema(_render_from(tmp_path / "c", edited)))
    assert first == again, "the same code, another process: the same fingerprint"
    assert changed != first


def test_item_schema_refuses_what_is_not_a_render_function_or_its_non_dict_result() -> None:
    with pytest.raises(TypeError, match="function from a row"):
        item_schema("SessionSeries")  # type: ignore[arg-type]
    schema = item_schema(lambda row: [row])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="returned list, not a dict"):
        schema.dump(1)
