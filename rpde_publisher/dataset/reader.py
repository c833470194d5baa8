"""Read a dataset site as a consumer does: its JSON-LD and the RDFa terms it uses."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

from werkzeug.test import TestResponse

from ..jsonld_scripts import JsonLdScripts

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

__all__ = ["SitePage", "fetch_site"]


@dataclass
class SitePage:
    """A dataset site fetched through the test client."""

    url: str = ""
    jsonld: t.Any = None
    error: str | None = None
    head_ok: bool = False
    rdfa_properties: set[str] = field(default_factory=set)
    rdfa_types: set[str] = field(default_factory=set)


def fetch_site(client: FlaskClient, path: str) -> SitePage:
    """GET (and HEAD) a dataset site and read its JSON-LD and the RDFa terms it uses."""
    response: TestResponse = client.get(path)
    page = SitePage(url=path)
    if response.status_code != 200:
        page.error = f"GET {path} answered {response.status_code}"
        return page
    if response.mimetype != "text/html":
        page.error = f"GET {path} answered {response.mimetype}, not text/html"
        return page
    page.head_ok = client.head(path).status_code == 200
    reader = _SiteReader()
    reader.feed(response.get_data(as_text=True))
    reader.close()
    if len(reader.blocks) != 1:
        page.error = f"the page has {len(reader.blocks)} JSON-LD blocks in <head>, not one"
        return page
    try:
        page.jsonld = json.loads(reader.blocks[0])
    except ValueError:
        page.error = "its JSON-LD does not parse"
        return page
    page.url = str(page.jsonld.get("url", path)) if isinstance(page.jsonld, dict) else path
    page.rdfa_properties = reader.properties
    page.rdfa_types = reader.types
    return page


class _SiteReader(JsonLdScripts):
    """Collects the JSON-LD blocks of ``<head>`` and the RDFa terms used in the page."""

    def __init__(self) -> None:
        super().__init__(head_only=True)
        self.properties: set[str] = set()
        self.types: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        values = dict(attrs)
        self.properties.update((values.get("property") or "").split())
        self.properties.update((values.get("rel") or "").split())
        self.types.update((values.get("typeof") or "").split())
