"""OpenActive's data models as pinned in definitions.json, loaded once, with JSON-LD names."""

from __future__ import annotations

import functools
import json
import typing as t
from importlib import resources

__all__ = ["definitions", "in_spec", "model", "recommended_fields", "required_fields"]

#: The models' own names for the JSON-LD keywords.
_KEYWORDS = {"id": "@id", "type": "@type"}


@functools.cache
def definitions() -> dict[str, t.Any]:
    """The bundle ``tools/generate_openactive.py`` wrote: models, enums, their version."""
    text = resources.files(__package__).joinpath("definitions.json").read_text("utf-8")
    return t.cast(dict[str, t.Any], json.loads(text))


def model(name: str) -> dict[str, t.Any]:
    """The model ``name`` (``"Dataset"``, ``"SessionSeries"``, ...)."""
    return t.cast(dict[str, t.Any], definitions()["models"][name])


def _jsonld(names: t.Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_KEYWORDS.get(name, name) for name in names))


def _rules(name: str, mode: str | None) -> dict[str, t.Any]:
    """The model's rules in validator ``mode`` (``"DatasetSite"``, ``"RPDEFeed"``, ...)."""
    found = model(name)
    configured = found.get("validationMode", {}).get(mode) if mode else None
    return t.cast(dict[str, t.Any], found.get("imperativeConfiguration", {}).get(configured, found))


def required_fields(name: str, mode: str | None = None) -> tuple[str, ...]:
    """The properties the model requires (in ``mode``), as JSON-LD writes them."""
    return _jsonld(_rules(name, mode).get("requiredFields", ()))


def recommended_fields(name: str, mode: str | None = None) -> tuple[str, ...]:
    """The properties the model recommends (in ``mode``), as JSON-LD writes them."""
    return _jsonld(_rules(name, mode).get("recommendedFields", ()))


def in_spec(name: str) -> frozenset[str]:
    """Every property the model defines, as JSON-LD writes them."""
    return frozenset(_jsonld(model(name).get("inSpec", ())))
