"""The checks of a field's value beyond its type: bounds, codes, URI templates, listed concepts."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterator
from collections.abc import Mapping

from .concept_rules import activity_findings
from .concept_rules import facility_type_findings
from .value_types import is_currency_code
from .vocabulary import Vocabularies

__all__ = ["value_findings"]

#: One finding: the path below the field (``()``, or an array index), severity, rule, message.
Finding = tuple[tuple[int, ...], t.Literal["failure", "warning"], str, str]
_URI_TEMPLATE = re.compile(r"\{[^{}\s]+\}")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def value_findings(
    name: str, value: object, spec: Mapping[str, t.Any], vocabularies: Vocabularies
) -> Iterator[Finding]:
    """What is wrong with field ``name``'s ``value`` (of the type ``spec`` asks for) beyond
    its type; ``vocabularies`` holds the lists activities and facility types come from."""
    minimum = spec.get("minValueInclusive")
    if minimum is not None and isinstance(value, (int, float)) and value < minimum:
        yield (), "failure", "below_min_value_inclusive", f"{name!r} must be at least {minimum}."
    if spec.get("valueConstraint") == "UriTemplate" and not (
        isinstance(value, str) and _URI_TEMPLATE.search(value)
    ):
        yield (
            (),
            "failure",
            "value_outwith_constraint",
            f"{name!r} must be a URI template with a {{variable}}.",
        )
    if name == "addressCountry" and not (isinstance(value, str) and _COUNTRY.match(value)):
        yield (), "failure", "invalid_format", f"{value!r} is not an ISO 3166-1 code."
    if name == "priceCurrency" and not is_currency_code(value):
        yield (), "failure", "invalid_format", f"{value!r} is not an ISO 4217 currency code."
    if name in ("latitude", "longitude") and isinstance(value, (int, float)):
        bound = 90 if name == "latitude" else 180
        if not -bound <= value <= bound:
            yield (), "failure", "invalid_format", f"{name} must be within ±{bound}."
    if name == "activity":
        concepts = activity_findings(value, vocabularies.activities)
    elif name == "facilityType":
        concepts = facility_type_findings(value, vocabularies.facility_types)
    else:
        return
    for index, severity, rule, text in concepts:
        yield (index,), severity, rule, text
