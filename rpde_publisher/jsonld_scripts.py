"""Collect the text of an HTML page's JSON-LD ``<script>`` blocks, in page order."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["JsonLdScripts", "json_ld_blocks"]


class JsonLdScripts(HTMLParser):
    """An HTML parser that keeps every ``<script type="application/ld+json">``'s text.

    With ``head_only``, only the blocks inside ``<head>`` count (a dataset site's own).
    """

    def __init__(self, *, head_only: bool = False) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._head_only = head_only
        self._in_head = False
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "body"):
            self._in_head = tag == "head"
        elif tag == "script" and (self._in_head or not self._head_only):
            if (dict(attrs).get("type") or "").strip() == "application/ld+json":
                self._script = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "script" and self._script is not None:
            self.blocks.append("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def json_ld_blocks(html: str) -> list[str]:
    """The text of every JSON-LD block of ``html``, wherever it stands."""
    reader = JsonLdScripts()
    reader.feed(html)
    reader.close()
    return reader.blocks
