"""The WSGI app gunicorn serves in the HTTP benchmarks (configured by environment).

``BENCH_DATABASE_URL`` picks the database, ``BENCH_CACHE_TYPE`` the page cache, and
``BENCH_BYTES_FILE`` (optional) the bytes that ``/bench/bytes``, a bare view, returns
from memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Response

from .apps import bench_app

app = bench_app(
    os.environ["BENCH_DATABASE_URL"], CACHE_TYPE=os.environ.get("BENCH_CACHE_TYPE", "NullCache")
)
_bytes = (
    Path(os.environ["BENCH_BYTES_FILE"]).read_bytes() if "BENCH_BYTES_FILE" in os.environ else b""
)


@app.get("/bench/bytes")
def bare_bytes() -> Response:
    """The same bytes as a feed page, from memory: the reference for cached pages."""
    return Response(_bytes, content_type="application/json")
