"""The data models' rules per type, read from definitions.json once and cached."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .feed_mode import RPDE_FEED

__all__ = ["ModelRules", "any_field", "definitions", "enum_values", "is_a", "model_rules"]


@dataclass(frozen=True)
class ModelRules:
    name: str
    fields: Mapping[str, Mapping[str, t.Any]]
    required: tuple[str, ...]
    recommended: tuple[str, ...]
    shall_not_include: tuple[str, ...]
    not_in_spec: frozenset[str]
    required_options: tuple[tuple[str, ...], ...]


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
