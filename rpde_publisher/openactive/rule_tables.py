"""The data models' rules per type, read from definitions.json once and cached."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .feed_mode import RPDE_FEED

__all__ = [
    "FieldShape",
    "ModelRules",
    "field_shape",
    "any_field",
    "definitions",
    "enum_values",
    "is_a",
    "model_rules",
]


@dataclass(frozen=True)
class ModelRules:
    name: str
    fields: Mapping[str, Mapping[str, t.Any]]
    required: tuple[str, ...]
    recommended: tuple[str, ...]
    shall_not_include: tuple[str, ...]
    not_in_spec: frozenset[str]
    required_options: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class FieldShape:
    """What a field may hold, split once: single values and array elements."""

    types: tuple[str, ...]
    models: tuple[str, ...]
    inner_types: tuple[str, ...]
    inner_models: tuple[str, ...]
    array_expected: bool


_shapes: dict[int, tuple[Mapping[str, t.Any], FieldShape]] = {}


def field_shape(spec: Mapping[str, t.Any]) -> FieldShape:
    """The shape of field definition ``spec`` (computed once per definition)."""
    known = _shapes.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    types = [x for x in [spec.get("requiredType"), *spec.get("alternativeTypes", ())] if x]
    models = [x for x in [spec.get("model"), *spec.get("alternativeModels", ())] if x]
    shape = FieldShape(
        tuple(types),
        tuple(m for m in models if not m.startswith("ArrayOf#")),
        tuple(x[8:] for x in types if x.startswith("ArrayOf#")),
        tuple(x[8:] for x in models if x.startswith("ArrayOf#")),
        any(x.startswith("ArrayOf#") for x in types + models),
    )
    _shapes[id(spec)] = (spec, shape)  # the spec is kept so that its id stays its own
    return shape


@cache
def definitions() -> Mapping[str, t.Any]:
    with (Path(__file__).parent / "definitions.json").open(encoding="utf-8") as file:
        return json.load(file)  # type: ignore[no-any-return]


@cache
def model_rules(name: str, context: str | None = None) -> ModelRules | None:
    """Type ``name``'s rules in RPDE-feed mode, as the value of field ``context``."""
    models = definitions()["models"]
    raw = models.get(name)
    if raw is None:
        return None
    mode = RPDE_FEED.get(name, {})
    raw = {**raw, **mode.get("model", {}), **mode.get("context", {}).get(context, {})}
    fields: dict[str, Mapping[str, t.Any]] = {}
    parent = raw.get("subClassOf", "")
    if parent.startswith("#") and (base := model_rules(parent[1:])) is not None:
        fields.update(base.fields)
    fields.update(raw.get("fields", {}))
    return ModelRules(
        name,
        fields,
        tuple(raw.get("requiredFields", ())),
        tuple(raw.get("recommendedFields", ())),
        tuple(raw.get("shallNotInclude", ())),
        frozenset(raw.get("notInSpec", ())),
        tuple(tuple(o.get("options", ())) for o in raw.get("requiredOptions", ())),
    )


@cache
def enum_values(name: str) -> frozenset[str] | None:
    """The full URLs of the enumeration ``name``'s values; None if it is no enumeration."""
    enum = definitions()["enums"].get(name)
    if enum is None:
        return None
    return frozenset(enum["namespace"] + value for value in enum["values"])


@cache
def any_field(name: str) -> Mapping[str, t.Any] | None:
    """The first model's definition of field ``name``."""
    for model in definitions()["models"].values():
        if name in model.get("fields", {}):
            return model["fields"][name]  # type: ignore[no-any-return]
    return None


@cache
def is_a(type_name: str, wanted: str) -> bool:
    """``type_name`` is ``wanted`` or one of its subclasses."""
    models = definitions()["models"]
    seen = type_name
    while seen:
        if seen == wanted:
            return True
        seen = models.get(seen, {}).get("subClassOf", "").lstrip("#")
    return False
