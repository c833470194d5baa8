"""A response body prepared once: its strong entity tag and, when worth it, its gzip form."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

__all__ = ["GZIP_MIN_SIZE", "Representation", "entity_tag"]

#: Bodies smaller than this are sent as they are: gzip would save next to nothing.
GZIP_MIN_SIZE = 1024


def entity_tag(body: bytes) -> str:
    """A strong entity tag for ``body`` (quotes not included): 128 bits of SHA-256.

    SHA-256 rather than BLAKE2b: OpenSSL runs it on the CPU's SHA instructions, twice as
    fast here on a 270 KB page (0.15 ms against 0.30 ms), and every page is hashed.
    """
    return hashlib.sha256(body).hexdigest()[:32]


@dataclass(frozen=True)
class Representation:
    """A body with everything needed to answer conditional and compressed requests.

    Built once per rendered page (and kept with it in the page cache), so serving it
    neither hashes nor compresses again.
    """

    body: bytes
    #: The identity body's entity tag, without quotes.
    etag: str
    #: The body gzipped, or ``None`` when compression is off or the body is small.
    gzipped: bytes | None = None

    @classmethod
    def of(cls, body: bytes, gzip_level: int = 1) -> Representation:
        """Hash ``body`` and, at ``gzip_level`` (0: never), compress it if large enough."""
        gzipped = None
        if gzip_level > 0 and len(body) >= GZIP_MIN_SIZE:
            # mtime=0: the same body always gives the same bytes, hence the same tag.
            gzipped = gzip.compress(body, compresslevel=gzip_level, mtime=0)
        return cls(body, entity_tag(body), gzipped)

    @property
    def gzip_etag(self) -> str:
        """The gzipped body's entity tag: a different representation, a different tag."""
        return f"{self.etag}-gzip"
