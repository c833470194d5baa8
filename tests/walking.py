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
