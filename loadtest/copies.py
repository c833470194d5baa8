"""A consumer's copy of a feed, reduced to a digest both sides compute the same way."""

from __future__ import annotations

import hashlib
import json
import typing as t
from collections.abc import Mapping


def item_hash(data: t.Any) -> str:
    """The hash of an item's ``data``, independent of key order and spacing."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def copy_digest(copy: Mapping[t.Any, str]) -> str:
    """One digest of a whole copy (item id -> :func:`item_hash`)."""
    lines = "\n".join(f"{key}:{copy[key]}" for key in sorted(copy, key=str))
    return hashlib.sha256(lines.encode()).hexdigest()
