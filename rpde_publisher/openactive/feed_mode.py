"""The data models' RPDE-feed mode: the rules that replace a type's own for open feed items.

The Node validator applies a model's ``validationMode`` / ``imperativeConfiguration*`` for
its ``RPDEFeed`` mode; definitions.json keeps them. Per type, ``model`` replaces the
type's rule lists, ``context`` replaces them where the object is the value of that field.
"""

from __future__ import annotations

import typing as t

from .definitions import definitions

__all__ = ["RPDE_FEED"]


def _feed_mode() -> dict[str, dict[str, t.Any]]:
    rules: dict[str, dict[str, t.Any]] = {}
    for name, model in definitions()["models"].items():
        mode = model.get("validationMode", {}).get("RPDEFeed")
        entry = {}
        if mode in model.get("imperativeConfiguration", {}):
            entry["model"] = model["imperativeConfiguration"][mode]
        if mode in model.get("imperativeConfigurationWithContext", {}):
            entry["context"] = model["imperativeConfigurationWithContext"][mode]
        if entry:
            rules[name] = entry
    return rules


RPDE_FEED: dict[str, dict[str, t.Any]] = _feed_mode()
