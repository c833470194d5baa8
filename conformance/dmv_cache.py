"""Pre-fill the data-model-validator's remote JSON cache so that it can run offline.

The validator reads ``DIR/<sha256 of the URL>.json`` (see its json-loader helper). With
no internet, every URL it asks for must be there: the activity list (the copy committed in
``tests/data``, with its attribution) under each URL the data's ``inScheme`` may name.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIVITY_LIST_URLS = ["https://openactive.io/activity-list", "https://openactive.io/activity-list/"]
#: The full list, committed: a checkout anywhere validates the same way.
FULL_LIST = ROOT / "tests" / "data" / "activity-list.jsonld"


def activity_list() -> dict[str, object]:
    """OpenActive's activity list, as the validator would fetch it."""
    return json.loads(FULL_LIST.read_text())  # type: ignore[no-any-return]


def write_entry(directory: Path, url: str, document: object) -> None:
    entry = {
        "errorCode": "error_none",
        "data": document,
        "statusCode": 200,
        "url": url,
        "exception": None,
        "contentType": "application/ld+json",
        "fetchTime": int(time.time() * 1000),
    }
    name = hashlib.sha256(url.encode()).hexdigest() + ".json"
    (directory / name).write_text(json.dumps(entry))


def fill(directory: Path) -> Path:
    """Write the cache into ``directory`` (created if needed) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    document = activity_list()
    for url in ACTIVITY_LIST_URLS:
        write_entry(directory, url, document)
    return directory
