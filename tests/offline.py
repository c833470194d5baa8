"""OpenActive's lists read from the copies in tests/data: the suite and tools run offline."""

import os
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def use_offline_lists() -> None:
    """Point the item checks at the committed activity list and facility types, unless
    the environment names others; subprocesses (apps, servers) inherit them."""
    os.environ.setdefault("RPDE_ACTIVITY_LIST", str(DATA / "activity-list.jsonld"))
    os.environ.setdefault("RPDE_FACILITY_TYPES", str(DATA / "facility-types.jsonld"))
