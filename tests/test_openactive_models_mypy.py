"""mypy, run on a user's mapping code, catches what the building blocks are there to catch."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: docs/mapping.md's worked example, which must type-check as users will copy it.
EXAMPLE = ROOT / "docs" / "examples" / "mapping.py"
#: The example app's mapping, on the same building blocks.
EXAMPLE_APP = ROOT / "example_app" / "schemas.py"

GOOD = '''
from dataclasses import dataclass
from datetime import datetime

from rpde_publisher.openactive.models import Concept
from rpde_publisher.openactive.models import GeoCoordinates
from rpde_publisher.openactive.models import item_schema
from rpde_publisher.openactive.models import Offer
from rpde_publisher.openactive.models import Place
from rpde_publisher.openactive.models import SessionSeries


def render(name: str, start: datetime) -> SessionSeries:
    geo: GeoCoordinates = {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": -0.1}
    place: Place = {"@type": "Place", "name": "Main pool", "geo": geo}
    swim: Concept = {
        "@type": "Concept",
        "@id": "https://openactive.io/activity-list#c",
        "prefLabel": "Swim",
        "inScheme": "https://openactive.io/activity-list",
    }
    offer: Offer = {"@type": "Offer", "price": 5.5, "priceCurrency": "GBP"}
    return {
        "@type": "SessionSeries",
        "@id": "https://example.com/series/1",
        "url": "https://example.com/swim",
        "name": name,
        "location": place,
        "activity": [swim],
        "organizer": {"@type": "Organization", "name": "Leisure Co"},
        "offers": [offer],
        "startDate": start,
        "eventStatus": "https://schema.org/EventScheduled",
        "description": None,
    }


@dataclass
class Booking:
    name: str
    start: datetime


def render_booking(row: Booking) -> SessionSeries:
    return render(row.name, row.start)


schema = item_schema(render_booking)
'''

BAD = '''
from rpde_publisher.openactive.models import Place
from rpde_publisher.openactive.models import SessionSeries

place: Place = {
    "@type": "Place",
    "nmae": "Main pool",
    "telephone": 1234,
}
series: SessionSeries = {
    "@type": "SessionSeries",
    "@id": "https://example.com/series/1",
    "url": None,
    "name": "Swim",
    "location": place,
    "activity": [],
    "organizer": {"@type": "Organization", "name": "Leisure Co"},
    "eventStatus": "EventScheduled",
}
wrong_type: Place = {"@type": "SportsActivityLocation", "name": "Pool"}
'''

#: BAD's lines and the mypy error codes each must raise.
EXPECTED = {
    5: {"typeddict-unknown-key", "typeddict-item"},  # "nmae" misspelt, so "name" missing
    8: {"typeddict-item"},  # a telephone number is Text
    10: {"typeddict-item"},  # no "offers": SessionSeries requires it
    13: {"typeddict-item"},  # a required property cannot be None
    18: {"typeddict-item"},  # EventStatusType values are full URIs
    20: {"typeddict-item"},  # a Place's @type is "Place"
}


def _errors(output: str, file: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for line, code in re.findall(rf"{file}:(\d+): error: .*\[([a-z-]+)\]$", output, re.M):
        found.setdefault(int(line), set()).add(code)
    return found


def test_mypy_catches_misspelt_properties_wrong_values_and_missing_keys(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD), encoding="utf-8")
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--config-file=",
            "good.py",
            str(EXAMPLE),
            str(EXAMPLE_APP),
            "bad.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert _errors(output, "good.py") == {}, output
    assert _errors(output, "mapping.py") == {}, output
    assert _errors(output, "example_app/schemas.py") == {}, output
    assert _errors(output, "bad.py") == EXPECTED, output
    assert 'Extra key "nmae" for TypedDict "Place"' in output
    assert 'Missing key "offers" for TypedDict "SessionSeries"' in output
