"""OpenActive's activity list and facility types: fetched and cached, or read from files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

__all__ = [
    "ACTIVITY_LIST_URL",
    "FACILITY_TYPES_URL",
    "ConceptList",
    "Vocabularies",
    "default_vocabularies",
    "load_list",
    "vocabularies_from",
]

log = logging.getLogger(__name__)

ACTIVITY_LIST_URL = "https://openactive.io/activity-list/activity-list.jsonld"
FACILITY_TYPES_URL = "https://openactive.io/facility-types/facility-types.jsonld"
#: Seconds a fetched list is used before it is fetched again.
DEFAULT_TTL = 24 * 3600
#: Environment variables naming a local file to use instead of the official URL.
ACTIVITY_LIST_ENV = "RPDE_ACTIVITY_LIST"
FACILITY_TYPES_ENV = "RPDE_FACILITY_TYPES"


@dataclass(frozen=True)
class ConceptList:
    """One SKOS concept scheme: its ``@id`` and each concept's ``prefLabel`` by ``@id``."""

    scheme: str
    labels: dict[str, str] = field(default_factory=dict)
    #: Each concept's ``@id`` by its lower-cased ``prefLabel``.
    by_label: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_document(cls, document: object) -> ConceptList:
        if not isinstance(document, dict) or not isinstance(document.get("concept"), list):
            raise ValueError("not a SKOS ConceptScheme with a concept array")
        scheme = str(document.get("id") or document.get("@id") or "")
        labels = {}
        for concept in document["concept"]:
            if isinstance(concept, dict):
                key = concept.get("id") or concept.get("@id")
                if isinstance(key, str):
                    labels[key] = str(concept.get("prefLabel", ""))
        return cls(scheme, labels, {label.lower(): key for key, label in labels.items()})


@dataclass(frozen=True)
class Vocabularies:
    """The lists the checks look concepts up in; None for a list that could not be had."""

    activities: ConceptList | None = None
    facility_types: ConceptList | None = None

    @classmethod
    def from_files(
        cls, activity_list: str | Path | None = None, facility_types: str | Path | None = None
    ) -> Vocabularies:
        """Read each named file (a missing or broken one is logged and skipped)."""
        return cls(
            _read_file(activity_list) if activity_list else None,
            _read_file(facility_types) if facility_types else None,
        )


def _read_file(path: str | Path) -> ConceptList | None:
    try:
        return ConceptList.from_document(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        log.warning("concept list %s cannot be read (%s): its check is skipped", path, error)
        return None


def _cache_dir() -> Path:
    return Path(os.environ.get("RPDE_VOCABULARY_CACHE", Path(tempfile.gettempdir()) / "rpde-vocab"))


def load_list(
    url: str, *, cache_dir: Path | None = None, ttl: float = DEFAULT_TTL, timeout: float = 10.0
) -> ConceptList | None:
    """The list at ``url``: the disk cache while fresher than ``ttl``, else fetched.

    A failed fetch falls back to a stale cached copy; with neither, it logs a warning and
    returns None (the check that needs the list is skipped, never raised).
    """
    directory = cache_dir or _cache_dir()
    cached = directory / (hashlib.sha256(url.encode()).hexdigest() + ".json")
    fresh = cached.exists() and time.time() - cached.stat().st_mtime < ttl
    if not fresh:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                body = response.read()
            concepts = ConceptList.from_document(json.loads(body))
            directory.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(body)
            return concepts
        except (OSError, ValueError) as error:
            if not cached.exists():
                log.warning(
                    "concept list %s cannot be fetched (%s): its check is skipped", url, error
                )
                return None
            log.warning("concept list %s cannot be fetched (%s): using a stale copy", url, error)
    return _read_file(cached)


_default: Vocabularies | None = None


def default_vocabularies() -> Vocabularies:
    """The process's lists, loaded once: a file named by ``RPDE_ACTIVITY_LIST`` /
    ``RPDE_FACILITY_TYPES`` if set, else the official URL through the disk cache."""
    global _default
    if _default is None:
        activity_file = os.environ.get(ACTIVITY_LIST_ENV)
        facility_file = os.environ.get(FACILITY_TYPES_ENV)
        _default = Vocabularies(
            _read_file(activity_file) if activity_file else load_list(ACTIVITY_LIST_URL),
            _read_file(facility_file) if facility_file else load_list(FACILITY_TYPES_URL),
        )
    return _default


def vocabularies_from(
    activity_list: str | Path | None = None, facility_types: str | Path | None = None
) -> Vocabularies:
    """The lists at a file path or an ``http(s)`` URL each; ``None`` takes the process's
    default (:func:`default_vocabularies`). A list that cannot be had is logged and None."""
    default = Vocabularies()
    if not (activity_list and facility_types):
        default = default_vocabularies()
    return Vocabularies(
        _list_at(activity_list) if activity_list else default.activities,
        _list_at(facility_types) if facility_types else default.facility_types,
    )


def _list_at(source: str | Path) -> ConceptList | None:
    if str(source).startswith(("https://", "http://")):
        return load_list(str(source))
    return _read_file(source)
