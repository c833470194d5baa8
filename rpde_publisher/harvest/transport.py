"""The HTTP seam: an ``httpx.Client`` over the network, or straight into a WSGI app."""

from __future__ import annotations

import typing as t

import httpx

__all__ = ["USER_AGENT", "http_client", "wsgi_client"]

#: Sent with every request, so publishers can tell harvesters apart in their logs.
USER_AGENT = "rpde_publisher-harvester (+https://rpde-publisher.readthedocs.io/)"


def http_client(timeout: float = 30.0) -> httpx.Client:
    """A client for real HTTP: redirects followed, ``timeout`` seconds per request."""
    return httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT})


def wsgi_client(app: t.Any, base_url: str = "http://localhost") -> httpx.Client:
    """A client whose requests go straight into the WSGI ``app``, in this process.

    Any host in a URL reaches ``app``; ``base_url`` only completes relative URLs. Use it
    to harvest or validate a Flask app without starting a server.
    """
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=base_url,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )
