"""A strict test consumer: walks a feed through the Flask test client by RPDE's rules."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit


@dataclass
class Walk:
    """Everything one walk from a URL to the last page saw."""

    pages: list[dict[str, t.Any]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    #: The consumer's copy: live items by id (their data), tombstones removed.
    copy: dict[t.Any, dict[str, t.Any]] = field(default_factory=dict)
    last_url: str = ""

    @property
    def items(self) -> list[dict[str, t.Any]]:
        return [item for page in self.pages for item in page["items"]]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def walk(
    client: t.Any, url: str, *, copy: dict[t.Any, t.Any] | None = None, max_pages: int = 10_000
) -> Walk:
    """Follow ``next`` from ``url`` until the last page, checking each page as it goes."""
    result = Walk(copy={} if copy is None else copy)
    for _ in range(max_pages):
        response = client.get(path_of(url))
        assert response.status_code == 200, (url, response.status_code, response.data[:500])
        assert response.content_type == "application/json"
        assert "Set-Cookie" not in response.headers
        body = response.get_json()
        assert set(body) == {"next", "items", "license"}
        result.pages.append(body)
        result.urls.append(url)
        for item in body["items"]:
            assert item["state"] in ("updated", "deleted")
            assert isinstance(item["modified"], int) and 0 < item["modified"] <= 2**53
            if item["state"] == "updated":
                assert isinstance(item["data"], dict)
                result.copy[item["id"]] = item["data"]
            else:
                assert "data" not in item
                result.copy.pop(item["id"], None)
        if not body["items"]:
            assert body["next"] == url, "the last page must point at itself"
            assert response.headers["Cache-Control"] == "public, max-age=8"
            result.last_url = url
            return result
        assert response.headers["Cache-Control"] == "public, max-age=3600"
        assert body["next"] != url
        url = body["next"]
    raise AssertionError(f"no last page within {max_pages} pages")


def settle(engine: t.Any, timeout: float = 60.0) -> None:
    """Wait until everything committed so far is visible in the feeds.

    MariaDB shows changes after the settle lag (0.05 s in these tests). PostgreSQL shows
    them once every older write transaction has ended, and on a shared server those may
    be other people's: wait for the snapshot's xmin to pass a transaction id taken now.
    """
    import time

    from sqlalchemy import text

    if engine.dialect.name in ("mysql", "mariadb"):
        time.sleep(0.1)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            now = connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar()
            connection.rollback()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                xmin = connection.execute(
                    text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                ).scalar()
                connection.rollback()
                if xmin >= now:
                    return
                time.sleep(0.05)
        raise AssertionError("a write transaction elsewhere held the feed back for too long")
