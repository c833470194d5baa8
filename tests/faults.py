"""WSGI middleware that injects the failures a harvester must survive, on chosen requests."""

from __future__ import annotations

import socket
import threading
import time
import typing as t
from collections.abc import Callable
from collections.abc import Iterable

Environ = dict[str, t.Any]
StartResponse = Callable[..., t.Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class FaultInjector:
    """Wraps a WSGI app: the first ``times`` requests that ``match`` get ``fault`` instead.

    ``fault(app, environ, start_response)`` answers in the app's place. Every request
    is recorded in :attr:`log` as ``(path with query, faulted)``.
    """

    def __init__(
        self,
        app: WSGIApp,
        fault: Callable[[WSGIApp, Environ, StartResponse], Iterable[bytes]],
        match: Callable[[Environ], bool],
        times: int = 1,
    ) -> None:
        self.app = app
        self.fault = fault
        self.match = match
        self.remaining = times
        self.log: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            faulted = self.remaining > 0 and self.match(environ)
            if faulted:
                self.remaining -= 1
        query = environ.get("QUERY_STRING", "")
        self.log.append((environ["PATH_INFO"] + (f"?{query}" if query else ""), faulted))
        if faulted:
            return self.fault(self.app, environ, start_response)
        return self.app(environ, start_response)


def with_cursor(environ: Environ) -> bool:
    """Requests past the first page (they carry a cursor)."""
    query = environ.get("QUERY_STRING", "")
    return "afterTimestamp" in query or "afterChangeNumber" in query


def status(code: int, retry_after: str | None = None) -> Callable[..., Iterable[bytes]]:
    """Answer ``code`` (503, 429, 500, ...) with an optional ``Retry-After``."""

    def fault(app: WSGIApp, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        headers = [("Content-Type", "application/json")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        start_response(f"{code} Injected", headers)
        return [b'{"error": "injected"}']

    return fault


def drop_connection(
    app: WSGIApp, environ: Environ, start_response: StartResponse
) -> Iterable[bytes]:
    """Close the TCP connection before any response (needs Werkzeug's real server)."""
    environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]  # writing fails: Werkzeug logs the connection as dropped


def truncate_body(app: WSGIApp, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Send the headers and half the body, then close the connection."""
    captured: dict[str, t.Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> None:
        captured["status"], captured["headers"] = status, headers

    body = b"".join(app(environ, capture))
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])

    def chunks() -> Iterable[bytes]:
        yield body[: len(body) // 2]
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        yield body[len(body) // 2 :]

    return chunks()


def slow(seconds: float) -> Callable[..., Iterable[bytes]]:
    """Answer correctly, after ``seconds``."""

    def fault(app: WSGIApp, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(seconds)
        return app(environ, start_response)

    return fault
