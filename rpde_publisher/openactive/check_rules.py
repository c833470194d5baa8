"""The walk that applies the data models' rules to an item, and the messages it finds."""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from .quality_rules import quality_findings
from .rule_tables import FieldPlan
from .rule_tables import is_a
from .rule_tables import model_rules
from .rule_tables import ModelRules
from .rule_tables import Values
from .value_rules import value_findings
from .value_types import check_value_type
from .value_types import is_url
from .vocabulary import Vocabularies

__all__ = ["ItemMessage", "Severity", "walk_item"]

Severity = t.Literal["failure", "warning", "suggestion"]
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
#: Field names the models write bare and the data writes as JSON-LD keywords.
_KEYWORDS = {"type": "@type", "id": "@id"}
_FORMATS = {f"https://schema.org/{x}" for x in ("DateTime", "Date", "Time", "Duration")}
_PLAIN = {
    f"https://schema.org/{x}" for x in ("Text", "URL", "Boolean", "Integer", "Number", "Float")
}

#: The JSON values that hold no other value.
_SCALARS = frozenset({str, int, float, bool})


@dataclass(frozen=True)
class ItemMessage:
    """One thing a check found in an item, at a JSONPath written as the Node validator writes it."""

    path: str
    severity: Severity
    rule: str
    message: str


def _path(parts: tuple[str | int, ...]) -> str:
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append("." + part)
        else:
            out.append("[" + json.dumps(part) + "]")
    return "".join(out)


def _inherits(rule: object, name: str) -> bool:
    """Whether an ``inheritsTo``/``inheritsFrom`` rule passes field ``name`` on."""
    if not isinstance(rule, dict):
        return False
    if "include" in rule:
        return name in rule["include"]
    return name not in rule.get("exclude", ())


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Walk:
    def __init__(self, vocabularies: Vocabularies) -> None:
        self.vocabularies = vocabularies
        self.messages: list[ItemMessage] = []
        #: (object, its model, the field being walked) of every object above this one.
        self.parents: list[tuple[Mapping[str, t.Any], ModelRules, str]] = []

    def lookup(
        self, data: Mapping[str, t.Any], model: ModelRules, name: str, level: int | None = None
    ) -> object:
        """Field ``name`` of ``data``, or the value it inherits as the Node validator lets it:
        from the object above through that field's ``inheritsTo`` (and on up), or from an
        object below (``superEvent``, ``instanceOfCourse``…) through its ``inheritsFrom``."""
        key = _KEYWORDS.get(name, name)
        if key in data or name in data:
            return data.get(key, data.get(name))
        for field, rule in model.inherits_from:
            below = data.get(field)
            if isinstance(below, dict) and _inherits(rule, name):
                if key in below or name in below:
                    return below.get(key, below.get(name))
        level = len(self.parents) if level is None else level
        if level > 0:
            above, above_model, field = self.parents[level - 1]
            if above is not data and _inherits(
                above_model.fields.get(field, {}).get("inheritsTo"), name
            ):
                return self.lookup(above, above_model, name, level - 1)
        return None

    def add(self, parts: tuple[str | int, ...], severity: Severity, rule: str, text: str) -> None:
        self.messages.append(ItemMessage(_path(parts), severity, rule, text))

    def node(
        self, data: Mapping[str, t.Any], expected: str | None, parts: tuple[str | int, ...]
    ) -> None:
        type_name = data.get("@type", data.get("type"))
        context = self.parents[-1][2] if self.parents else None
        model = model_rules(type_name, context) if isinstance(type_name, str) else None
        if model is None and expected is not None:
            model = model_rules(expected, context)
        if "@context" in data and parts:
            self.add(
                (*parts, "@context"),
                "failure",
                "field_not_in_spec",
                "@context belongs on the root object only.",
            )
        if not parts and type_name is None:
            self.add((), "failure", "missing_required_field", "The root object needs an @type.")
        if model is None:
            if not parts and type_name is not None:
                self.add(
                    ("@type",),
                    "failure",
                    "invalid_type",
                    f"@type {type_name!r} is not a type of the OpenActive data models.",
                )
            return
        online = (
            "location" in model.required
            and self.lookup(data, model, "eventAttendanceMode")
            == "https://schema.org/OnlineEventAttendanceMode"
        )
        for name in model.required:
            key = _KEYWORDS.get(name, name)
            if name == "location" and online:
                if key in data:
                    self.add(
                        (*parts, key),
                        "failure",
                        "field_not_allowed",
                        "An online-only event has no location (use beta:affiliatedLocation).",
                    )
                continue
            if key not in data and self.lookup(data, model, name) is None:
                # The Node validator names the model's field here: $.id, not $["@id"].
                self.add(
                    (*parts, name),
                    "failure",
                    "missing_required_field",
                    f"Required property {key!r} is missing from {model.name}.",
                )
        for name in model.recommended:
            # As the Node validator: the JSON-LD keyword counts, and so does inheritance.
            if data.get(name) is not None and name not in _KEYWORDS:
                continue  # present: the look-up's first step, without the call
            if self.lookup(data, model, name) is None:
                self.add(
                    (*parts, name),
                    "warning",
                    "missing_recommended_field",
                    f"Recommended property {_KEYWORDS.get(name, name)!r} is missing from"
                    f" {model.name}.",
                )
        for options in model.required_options:
            if options and all(self.lookup(data, model, o) is None for o in options):
                # The Node validator names the options as one subscript: $.x["a","b"].
                names = ",".join(json.dumps(o) for o in options)
                self.messages.append(
                    ItemMessage(
                        f"{_path(parts)}[{names}]",
                        "failure",
                        "missing_required_field",
                        f"{model.name} needs one of: {', '.join(options)}.",
                    )
                )
        plain = model.plain
        for key, value in data.items():
            plan = plain.get(key)
            if (
                plan is not None
                and not plan.detailed
                and value.__class__ in _SCALARS
                and value != ""
            ):
                # The common case, kept short: a plain value that fits the field.
                for fits in plan.single.predicates:
                    if fits(value):
                        break
                else:
                    self.field(data, model, key, value, (*parts, key))
                continue
            self.field(data, model, key, value, (*parts, key))
        found = quality_findings(
            model.name, data, context, lambda name: self.lookup(data, model, name)
        )
        for below, rule, text in found:
            self.add((*parts, *below), "failure", rule, text)

    def field(
        self,
        data: Mapping[str, t.Any],
        model: ModelRules,
        key: str,
        value: object,
        parts: tuple[str | int, ...],
    ) -> None:
        if key == "@context":
            return
        if _empty(value):
            self.add(
                parts,
                "failure",
                "field_is_empty",
                f'{key!r} must not be empty (null, "", [] or {{}}).',
            )
            return
        plan = model.plain.get(key) or self.field_rules(model, key, value, parts)
        if plan is None:
            return
        if isinstance(value, (dict, list)):  # objects below look their parents up
            self.parents.append((data, model, key))
            self.typed(plan, key, value, parts)
            self.parents.pop()
        else:
            self.typed(plan, key, value, parts)
        if plan.detailed:
            self.details(key, value, plan.spec, parts)

    def field_rules(
        self, model: ModelRules, key: str, value: object, parts: tuple[str | int, ...]
    ) -> FieldPlan | None:
        """Check what field ``key`` of ``model`` asks beyond its values' types (not allowed,
        deprecated, fixed content); the plan its values are then checked by, if any."""
        if ":" in key:
            return None  # an extension (beta:, ext:) that the models do not describe
        if key in model.shall_not_include:
            self.add(
                parts,
                "failure",
                "field_not_allowed_in_spec",
                f"{model.name} must not include {key!r}.",
            )
        # A field a type must not include is still checked as its other types define it.
        plan = model.plans.get(key)
        if plan is None:
            # Nested schema.org objects may use schema.org's other properties, which the
            # Node validator looks up online; without that vocabulary it is only a warning.
            severity: Severity = "failure" if len(parts) == 1 else "warning"
            if key not in model.shall_not_include:
                self.add(
                    parts,
                    severity,
                    "field_not_in_spec",
                    f"{key!r} is not a property of {model.name}.",
                )
            return None
        spec = plan.spec
        if key in model.not_in_spec:
            self.add(
                parts,
                "failure",
                "field_not_allowed_in_spec",
                f"{key!r} is not allowed on {model.name} in the specification.",
            )
        if "deprecationGuidance" in spec:
            self.add(
                parts,
                "warning",
                "field_deprecated",
                f"{key!r} is deprecated: {spec['deprecationGuidance']}",
            )
        if "requiredContent" in spec and value != spec["requiredContent"] and key != "type":
            self.add(
                parts,
                "failure",
                "field_not_in_defined_values",
                f"{key!r} must be {spec['requiredContent']!r}.",
            )
        return plan

    def typed(self, plan: FieldPlan, key: str, value: object, parts: tuple[str | int, ...]) -> None:
        """Check ``value`` (not empty) against what the field may hold."""
        if not isinstance(value, list):
            self.one(plan.single, plan, key, value, parts, plan.array_expected)
            return
        if not plan.element.types and not plan.element.models:
            self.add(parts, "failure", "invalid_type", f"{key!r} must not be an array.")
            return
        for index, item in enumerate(value):
            if _empty(item):
                self.add(
                    (*parts, index),
                    "failure",
                    "field_is_empty",
                    f"{key!r} must not hold empty values.",
                )
            else:
                self.one(plan.element, plan, key, item, (*parts, index))

    def one(
        self,
        values: Values,
        plan: FieldPlan,
        key: str,
        value: object,
        parts: tuple[str | int, ...],
        array_expected: bool = False,
    ) -> None:
        models = values.models
        if isinstance(value, dict) and models:
            wanted = values.wanted
            actual = value.get("@type", value.get("type"))
            if (
                isinstance(actual, str)
                and ":" not in actual  # an extension type (beta:Cafe) is not judged
                and not any(is_a(actual, m) for m in wanted)
            ):
                self.add(
                    parts,
                    "failure",
                    "invalid_type",
                    f"{key!r} is a {actual}, which is not {' or '.join(wanted)}.",
                )
                return
            if actual is None:
                # As the Node validator: the object must say its type, and the field
                # (the whole array, for an array) then holds a value of no allowed type.
                field_parts = parts[:-1] if isinstance(parts[-1], int) else parts
                self.add(
                    field_parts,
                    "failure",
                    "invalid_type",
                    f"{key!r} holds an object with no @type.",
                )
                self.add(
                    parts,
                    "failure",
                    "missing_required_field",
                    f"Objects in {key!r} must have an @type: {' or '.join(wanted)}.",
                )
            self.node(value, wanted[0], parts)
            return
        for fits in values.predicates:
            if fits(value):
                return
        if models and plan.spec.get("allowReferencing") and is_url(value):
            return
        types = values.types
        expected = ", ".join([*types, *models]) or "a value"
        if array_expected and not types and not models:
            expected = "an array"
        rule = "invalid_id" if key == "@id" else "invalid_type"
        if isinstance(value, str) and any(x in _FORMATS for x in types):
            rule = "invalid_format"
        elif any(check_value_type(x, "") is False and x not in _PLAIN for x in types):
            rule = "field_not_in_defined_values"
        self.add(
            parts, "failure", rule, f"{key!r} is {json.dumps(value)[:80]}, which is not {expected}."
        )

    def details(
        self, name: str, value: object, spec: Mapping[str, t.Any], parts: tuple[str | int, ...]
    ) -> None:
        found = value_findings(name, value, spec, self.vocabularies)
        for below, severity, rule, text in found:
            self.add((*parts, *below), severity, rule, text)


def walk_item(data: Mapping[str, t.Any], vocabularies: Vocabularies) -> list[ItemMessage]:
    """Every message for the item ``data`` (the root of an opportunity)."""
    walk = _Walk(vocabularies)
    context = data.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if "https://openactive.io/" not in contexts:
        walk.add(
            ("@context",),
            "failure",
            "missing_required_field",
            "The root object needs an @context that includes https://openactive.io/.",
        )
    walk.node(data, None, ())
    return walk.messages
