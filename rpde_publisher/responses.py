"""Responses of the public routes: they set no cookie and vary by none, so CDNs keep them."""

from __future__ import annotations

import typing as t

from flask import Response
from werkzeug.datastructures import Headers
from werkzeug.http import parse_set_header


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
