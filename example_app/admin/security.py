"""Security headers for the pages people use: no script at all, no framing, no sniffing."""

from __future__ import annotations

from flask import Response

#: The admin and home pages run no script: every script source, inline or not, is refused.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """Add :data:`HEADERS` to ``response`` (an ``after_request`` function)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
