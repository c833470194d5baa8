"""Conformance checks with OpenActive's own validators (run by ``make test``)."""

import os
from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# The example app's item checks read the lists the Node validator is given, offline (the
# apps these checks start inherit the environment).
os.environ.setdefault("RPDE_ACTIVITY_LIST", str(_DATA / "activity-list.jsonld"))
os.environ.setdefault("RPDE_FACILITY_TYPES", str(_DATA / "facility-types.jsonld"))
