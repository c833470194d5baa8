"""Answer from a prepared body: ``304`` on a matching ``If-None-Match``, gzip if accepted.

Any view returning bytes can use it (the feed pages do; so can the dataset site):

.. code-block:: python

    representation = Representation.of(html_bytes)   # or kept from a cache
    return send_representation(
        representation,
        content_type="text/html; charset=utf-8",
        cache_control="public, max-age=3600",
    )
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import request
from flask import Response

from .representation import Representation

__all__ = ["accepts_gzip", "send_representation"]


def accepts_gzip() -> bool:
    """Whether the current request accepts a gzipped body."""
    return request.accept_encodings["gzip"] > 0


def send_representation(
    representation: Representation,
    *,
    content_type: str,
    cache_control: str,
    response_class: type[Response] = Response,
    headers: Mapping[str, str] | None = None,
    vary: bool = True,
) -> Response:
    """``200`` with the body (gzipped when the client accepts it), or ``304 Not Modified``.

    Each encoding has its own strong ``ETag`` (``"<hash>"`` and ``"<hash>-gzip"``), so a
    cache holding either can revalidate it. ``Vary: Accept-Encoding`` is sent whenever
    ``vary`` is true (compression is on), on every answer, so that shared caches keep
    the encodings apart even for bodies too small to compress.

    :param representation: The body, its entity tag and its gzipped form, prepared once.
    :param content_type: The ``Content-Type`` of the body.
    :param cache_control: The ``Cache-Control`` header of the answer (also on ``304``).
    :param response_class: The response class, e.g. one that refuses cookies.
    :param headers: More headers for the answer (also on ``304``).
    :param vary: Whether the answer may depend on ``Accept-Encoding``.
    """
    gzipped = representation.gzipped is not None and accepts_gzip()
    etag = representation.gzip_etag if gzipped else representation.etag
    fields = {"ETag": f'"{etag}"', "Cache-Control": cache_control}
    if vary:
        fields["Vary"] = "Accept-Encoding"
    if headers:
        fields.update(headers)
    # All headers handed to the constructor at once: setting them one by one scans the
    # list each time, a tenth of a cached page's time.
    if request.if_none_match.contains_weak(etag):
        return response_class(status=304, headers=list(fields.items()))
    if gzipped:
        fields["Content-Encoding"] = "gzip"
    body = representation.gzipped if gzipped else representation.body
    return response_class(body, status=200, headers=list(fields.items()), content_type=content_type)
