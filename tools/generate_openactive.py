"""Regenerate rpde_publisher/openactive's files from the pinned npm @openactive/data-models.

Usage: python -m tools.generate_openactive [--check]

Reads ``node_modules/@openactive/data-models/versions/2.x`` (installed by ``npm ci`` from
the committed package.json) and writes ``rpde_publisher/openactive/definitions.json``: every
model's rules (fields, value types, required, recommended, must-not-include, deprecations)
and the enumerations, as OpenActive publishes them, with the validation modes of open
data (feeds, dataset sites, data catalogues) and without the booking API's; and, from
that, the typed building blocks ``rpde_publisher/openactive/models*.py`` (TypedDicts of
every type an open opportunity feed reaches, see tools/openactive_models.py; each key is
declared once, in a base the types declaring it alike share: tools/openactive_bases.py).
``--check`` writes nothing and exits 1 when a committed file differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools import openactive_models

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "@openactive" / "data-models"
MODELS = SOURCE / "versions" / "2.x" / "models"
ENUMS = SOURCE / "versions" / "2.x" / "enums.json"
DEFINITIONS = ROOT / "rpde_publisher" / "openactive" / "definitions.json"

#: The validation modes of open data: feeds, dataset sites and data catalogues. A model's
#: ``validationMode`` maps OpenActive's validator modes (``RPDEFeed``, ``DatasetSite``, ...)
#: to these; the others are the booking API's requests and responses, left out.
OPEN_DATA_MODES = ("RPDEFeed", "BookableRPDEFeed", "DatasetSite", "DataCatalog")
IMPERATIVE_KEYS = ("imperativeConfiguration", "imperativeConfigurationWithContext")


def _model(path: Path) -> dict[str, object]:
    model = json.loads(path.read_text(encoding="utf-8"))
    modes = {
        name: mode
        for name, mode in model.get("validationMode", {}).items()
        if name in OPEN_DATA_MODES
    }
    kept: dict[str, object] = {
        key: value
        for key, value in model.items()
        if key not in (*IMPERATIVE_KEYS, "validationMode")
    }
    if modes:
        kept["validationMode"] = modes
    for key in IMPERATIVE_KEYS:
        configuration = {
            mode: rules
            for mode, rules in model.get(key, {}).items()
            if mode in modes.values()
        }
        if configuration:
            kept[key] = configuration
    return kept


def definitions() -> str:
    """The text of definitions.json, from the installed package."""
    package = json.loads((SOURCE / "package.json").read_text(encoding="utf-8"))
    bundle = {
        "source": "npm @openactive/data-models (MIT), versions/2.x",
        "version": package["version"],
        "models": {path.stem: _model(path) for path in sorted(MODELS.glob("*.json"))},
        "enums": json.loads(ENUMS.read_text(encoding="utf-8")),
    }
    return json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file and the text it should hold."""
    text = definitions()
    typed = openactive_models.modules(json.loads(text))
    return {DEFINITIONS: text} | {DEFINITIONS.parent / file: body for file, body in typed.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether files are stale")
    args = parser.parse_args(argv)
    if not MODELS.is_dir():
        print(f"{MODELS} is missing: run `npm ci` first", file=sys.stderr)
        return 2
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
