"""The data models' rules per type and per field, worked out from definitions.json once."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from .definitions import definitions
from .feed_mode import RPDE_FEED
from .value_types import value_predicate

__all__ = [
    "FieldPlan",
    "ModelRules",
    "Values",
    "any_field",
    "is_a",
    "model_rules",
]

#: Fields whose values the walk checks beyond their type (codes, bounds, concept lists).
_DETAILED = frozenset(
    {"addressCountry", "priceCurrency", "latitude", "longitude", "activity", "facilityType"}
)


@dataclass(frozen=True)
class Values:
    """What one value of a field may be: a single value, or one element of an array."""

    types: tuple[str, ...]
    models: tuple[str, ...]
    #: ``models`` without their leading ``#``: the types an object may be.
    wanted: tuple[str, ...]
    #: The tests of the plain value types among ``types`` (enumerations, dates, ...).
    predicates: tuple[Callable[[object], bool], ...]


@dataclass(frozen=True)
class FieldPlan:
    """What a field's definition asks of its values, split once."""

    spec: Mapping[str, t.Any]
    single: Values
    element: Values
    array_expected: bool
    #: Whether the walk has more to check of a value than its type (see ``_DETAILED``).
    detailed: bool


@dataclass(frozen=True)
class ModelRules:
    name: str
    fields: Mapping[str, Mapping[str, t.Any]]
    required: tuple[str, ...]
    recommended: tuple[str, ...]
    shall_not_include: frozenset[str]
    not_in_spec: frozenset[str]
    required_options: tuple[tuple[str, ...], ...]
    #: The plan of each field the type defines, and of each it must not include (as the
    #: other types define it).
    plans: Mapping[str, FieldPlan]
    #: The plans of the fields with no rule but on their values (not deprecated, allowed,
    #: no required content), and of ``@type`` and ``@id``: the walk's fast path.
    plain: Mapping[str, FieldPlan]
    #: The fields whose objects pass fields up to this one (``inheritsFrom``), in order.
    inherits_from: tuple[tuple[str, Mapping[str, t.Any]], ...]


def _values(types: t.Iterable[str], models: t.Iterable[str]) -> Values:
    types, models = tuple(types), tuple(models)
    predicates = (value_predicate(x) for x in types)
    return Values(
        types, models, tuple(m.lstrip("#") for m in models), tuple(p for p in predicates if p)
    )


def field_plan(name: str, spec: Mapping[str, t.Any]) -> FieldPlan:
    """The plan of field ``name`` as ``spec`` defines it."""
    types = [x for x in [spec.get("requiredType"), *spec.get("alternativeTypes", ())] if x]
    models = [x for x in [spec.get("model"), *spec.get("alternativeModels", ())] if x]
    return FieldPlan(
        spec,
        _values(types, (m for m in models if not m.startswith("ArrayOf#"))),
        _values(
            (x[8:] for x in types if x.startswith("ArrayOf#")),
            (x[8:] for x in models if x.startswith("ArrayOf#")),
        ),
        any(x.startswith("ArrayOf#") for x in types + models),
        name in _DETAILED
        or spec.get("minValueInclusive") is not None
        or spec.get("valueConstraint") == "UriTemplate",
    )


#: The JSON-LD keywords' plans: any type's ``@type`` is text, its ``@id`` a URL.
_KEYWORD_PLANS = {
    "@type": field_plan("@type", {"requiredType": "https://schema.org/Text"}),
    "@id": field_plan("@id", {"requiredType": "https://schema.org/URL"}),
}


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
    shall_not_include = frozenset(raw.get("shallNotInclude", ()))
    plans = {}
    for field in [*fields, *shall_not_include]:
        spec = fields.get(field) or (any_field(field) if field in shall_not_include else None)
        if spec is not None:
            plans[field] = field_plan(field, spec)
    not_in_spec = frozenset(raw.get("notInSpec", ()))
    return ModelRules(
        name,
        fields,
        tuple(raw.get("requiredFields", ())),
        tuple(raw.get("recommendedFields", ())),
        shall_not_include,
        not_in_spec,
        tuple(tuple(o.get("options", ())) for o in raw.get("requiredOptions", ())),
        plans,
        _KEYWORD_PLANS
        | {
            field: plan
            for field, plan in plans.items()
            if field not in shall_not_include
            and field not in not_in_spec
            and not field.startswith("@")
            and ":" not in field
            and "deprecationGuidance" not in plan.spec
            and "requiredContent" not in plan.spec
        },
        tuple(
            (field, spec["inheritsFrom"])
            for field, spec in fields.items()
            if isinstance(spec.get("inheritsFrom"), dict)
        ),
    )


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
