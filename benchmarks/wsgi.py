"""Call a WSGI app in-process, without a test client's overhead, and read the whole body."""

from __future__ import annotations

import typing as t

from werkzeug.test import EnvironBuilder

from .apps import BASE_URL


class WSGIGet:
    """A prepared ``GET path`` against ``app``: calling it returns the response body."""

    def __init__(self, app: t.Any, path: str) -> None:
        self.app = app
        builder = EnvironBuilder(path=path, base_url=BASE_URL)
        self.environ = builder.get_environ()
        builder.close()
        self.status = ""

    def _start_response(self, status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        self.status = status
        return None

    def __call__(self) -> bytes:
        result = self.app(dict(self.environ), self._start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not self.status.startswith("200"):
            raise RuntimeError(f"GET {self.environ['PATH_INFO']} answered {self.status}")
        return body
