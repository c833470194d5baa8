"""The data models' rules, precomputed per type once, and the walk that applies them to an item."""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from .concept_rules import activity_findings
from .concept_rules import facility_type_findings
from .quality_rules import quality_findings
from .rule_tables import any_field
from .rule_tables import definitions
from .rule_tables import field_shape
from .rule_tables import FieldShape
from .rule_tables import is_a
from .rule_tables import model_rules
from .rule_tables import ModelRules
from .value_types import check_value_type
from .value_types import is_currency_code
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
_KEYWORD_SHAPES = {
    "@type": FieldShape(("https://schema.org/Text",), (), (), (), False),
    "@id": FieldShape(("https://schema.org/URL",), (), (), (), False),
}
_URI_TEMPLATE = re.compile(r"\{[^{}\s]+\}")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


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
        self.enums: Mapping[str, Mapping[str, t.Any]] = definitions()["enums"]
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
        for field, spec in model.fields.items():
            below = data.get(field)
            if isinstance(below, dict) and _inherits(spec.get("inheritsFrom"), name):
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
        for key, value in data.items():
            self.parents.append((data, model, key))
            self.field(model, key, value, (*parts, key))
            self.parents.pop()
        found = quality_findings(
            model.name, data, context, lambda name: self.lookup(data, model, name)
        )
        for below, rule, text in found:
            self.add((*parts, *below), "failure", rule, text)

    def field(
        self, model: ModelRules, key: str, value: object, parts: tuple[str | int, ...]
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
        if key in ("@type", "@id"):
            self.typed({}, key, value, parts)
            return
        name = key
        if ":" in name:
            return  # an extension (beta:, ext:) that the models do not describe
        if name in model.shall_not_include:
            self.add(
                parts,
                "failure",
                "field_not_allowed_in_spec",
                f"{model.name} must not include {key!r}.",
            )
        # A field a type must not include is still checked as its other types define it.
        spec = model.fields.get(name) or (
            any_field(name) if name in model.shall_not_include else None
        )
        if spec is None:
            # Nested schema.org objects may use schema.org's other properties, which the
            # Node validator looks up online; without that vocabulary it is only a warning.
            severity: Severity = "failure" if len(parts) == 1 else "warning"
            if name in model.shall_not_include:
                return
            self.add(
                parts, severity, "field_not_in_spec", f"{key!r} is not a property of {model.name}."
            )
            return
        if name in model.not_in_spec:
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
        if "requiredContent" in spec and value != spec["requiredContent"] and name != "type":
            self.add(
                parts,
                "failure",
                "field_not_in_defined_values",
                f"{key!r} must be {spec['requiredContent']!r}.",
            )
        self.typed(spec, key, value, parts)
        self.details(name, value, spec, parts)

    def typed(
        self, spec: Mapping[str, t.Any], key: str, value: object, parts: tuple[str | int, ...]
    ) -> None:
        shape = _KEYWORD_SHAPES[key] if key in _KEYWORD_SHAPES else field_shape(spec)
        if isinstance(value, list):
            if not shape.inner_types and not shape.inner_models:
                self.add(parts, "failure", "invalid_type", f"{key!r} must not be an array.")
                return
            for index, item in enumerate(value):
                self.one(shape.inner_types, shape.inner_models, spec, key, item, (*parts, index))
            return
        self.one(shape.types, shape.models, spec, key, value, parts, shape.array_expected)

    def one(
        self,
        types: tuple[str, ...],
        models: tuple[str, ...],
        spec: Mapping[str, t.Any],
        key: str,
        value: object,
        parts: tuple[str | int, ...],
        array_expected: bool = False,
    ) -> None:
        if _empty(value):
            self.add(parts, "failure", "field_is_empty", f"{key!r} must not hold empty values.")
            return
        if isinstance(value, dict) and models:
            wanted = [m.lstrip("#") for m in models]
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
        for type_name in types:
            if check_value_type(type_name, value, self.enums):
                return
        if models and spec.get("allowReferencing") and is_url(value):
            return
        expected = ", ".join([*types, *models]) or "a value"
        if array_expected and not types and not models:
            expected = "an array"
        rule = "invalid_id" if key == "@id" else "invalid_type"
        if isinstance(value, str) and any(x in _FORMATS for x in types):
            rule = "invalid_format"
        elif any(check_value_type(x, "", self.enums) is False and x not in _PLAIN for x in types):
            rule = "field_not_in_defined_values"
        self.add(
            parts, "failure", rule, f"{key!r} is {json.dumps(value)[:80]}, which is not {expected}."
        )

    def details(
        self, name: str, value: object, spec: Mapping[str, t.Any], parts: tuple[str | int, ...]
    ) -> None:
        minimum = spec.get("minValueInclusive")
        if minimum is not None and isinstance(value, (int, float)) and value < minimum:
            self.add(
                parts,
                "failure",
                "below_min_value_inclusive",
                f"{name!r} must be at least {minimum}.",
            )
        if spec.get("valueConstraint") == "UriTemplate" and not (
            isinstance(value, str) and _URI_TEMPLATE.search(value)
        ):
            self.add(
                parts,
                "failure",
                "value_outwith_constraint",
                f"{name!r} must be a URI template with a {{variable}}.",
            )
        if name == "addressCountry" and not (isinstance(value, str) and _COUNTRY.match(value)):
            self.add(parts, "failure", "invalid_format", f"{value!r} is not an ISO 3166-1 code.")
        if name == "priceCurrency" and not is_currency_code(value):
            self.add(
                parts, "failure", "invalid_format", f"{value!r} is not an ISO 4217 currency code."
            )
        if name in ("latitude", "longitude") and isinstance(value, (int, float)):
            bound = 90 if name == "latitude" else 180
            if not -bound <= value <= bound:
                self.add(parts, "failure", "invalid_format", f"{name} must be within ±{bound}.")
        if name == "activity":
            findings = activity_findings(value, self.vocabularies.activities)
        elif name == "facilityType":
            findings = facility_type_findings(value, self.vocabularies.facility_types)
        else:
            return
        for index, severity, rule, text in findings:
            self.add((*parts, index), severity, rule, text)


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
