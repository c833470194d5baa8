"""HTTP responses shared by every route: public (no cookie, CDN-cacheable), JSON errors, 503s."""

from __future__ import annotations

import json
import typing as t

from flask import request
from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.http import parse_set_header

if t.TYPE_CHECKING:
    from .diagnosis import Problem

__all__ = [
    "PublicResponse",
    "absolute_url",
    "json_error",
    "json_response",
    "not_set_up",
    "retry_later",
    "too_many_requests",
    "unavailable",
]


class PublicResponse(Response):
    """A response that never carries cookies nor varies by them, so CDNs can cache it,
    and is never content-sniffed (``X-Content-Type-Options: nosniff``).

    The host app's session handling may try to set its cookie, or add ``Vary: Cookie``
    after the view has returned (Flask does when anything read the session, such as
    Flask-Login loading ``current_user`` in a ``before_request`` hook); both are dropped.
    A shared cache keeping a response that set a visitor's cookie would hand it to the
    next visitor.
    """

    def set_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Public responses set no cookies (a session cookie would defeat caching)."""

    def delete_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Public responses set no cookies."""

    def get_wsgi_headers(self, environ: t.Any) -> Headers:
        headers = super().get_wsgi_headers(environ)
        # A browser must take a feed page for the JSON it says it is, never sniff it.
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if "Set-Cookie" in headers:
            headers.remove("Set-Cookie")
        vary = headers.get("Vary")
        if vary is None or vary == "Accept-Encoding":  # as the view set it: nothing to drop
            return headers
        kept = [value for value in parse_set_header(vary) if value.lower() != "cookie"]
        if kept:
            headers["Vary"] = ", ".join(kept)
        else:
            headers.remove("Vary")
        return headers


def absolute_url(base_url: str | None, path: str) -> str:
    """``path`` made absolute with ``RPDE_BASE_URL``, else the request's own host."""
    origin = base_url if base_url is not None else request.host_url.rstrip("/")
    return origin + path



def json_response(status: int, body: dict[str, t.Any], cache_control: str) -> Response:
    """A public JSON response."""
    response = PublicResponse(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = cache_control
    return response



def json_error(status: int, body: dict[str, t.Any]) -> Response:
    """A JSON error body (``error``, ``message``, ...) that no cache keeps."""
    return json_response(status, body, cache_control="no-store")



def unavailable(retry_after: int) -> Response:
    """``503`` with ``Retry-After``, never cached: consumers come back later."""
    response = json_error(
        503,
        {
            "error": "unavailable",
            "message": "The feed cannot read its database right now; try again later.",
            "retry_after": retry_after,
        },
    )
    return retry_later(response, retry_after)



def not_set_up(problem: Problem) -> Response:
    """``503`` without ``Retry-After``: the publisher, not the consumer, must act."""
    return json_error(
        503,
        {
            "error": "not_set_up",
            "message": "This feed is not set up in its database yet; the publisher has been"
            " told how to fix it. Retrying will not help until they do.",
        },
    )



def too_many_requests(retry_after: int, limit: int) -> Response:
    """``429`` with ``Retry-After``, never cached: the client asked faster than allowed."""
    response = json_error(
        429,
        {
            "error": "rate_limited",
            "message": f"At most {limit} requests per second per client; slow down.",
            "retry_after": retry_after,
        },
    )
    return retry_later(response, retry_after)



def retry_later(response: Response, retry_after: int) -> Response:
    """``response`` with ``Retry-After`` and never cached: the client should come back."""
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
