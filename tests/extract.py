"""Read a dataset site as consumers do: JSON-LD and RDFa through real parsers (extruct, rdflib)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import extruct
import lxml.html
from extruct.utils import parse_xmldom_html
from pyRdfa import Options
from pyRdfa import pyRdfa as PyRdfa
from rdflib import Graph
from rdflib import Literal
from rdflib import Namespace
from rdflib import URIRef
from rdflib.namespace import DCTERMS
from rdflib.namespace import FOAF
from rdflib.namespace import RDF

DCAT = Namespace("http://www.w3.org/ns/dcat#")
ODRS = Namespace("http://schema.theodi.org/odrs#")
SDMX_FREQ_N = URIRef("http://purl.org/linked-data/sdmx/2009/code#freq-N")
__all__ = ["DCAT", "DCTERMS", "FOAF", "ODRS", "RDF", "SDMX_FREQ_N", "Site", "rdfa", "read_site"]


@dataclass
class Site:
    """A dataset site as parsed: its HTML tree, its JSON-LD blocks and its RDFa graph."""

    html: str
    tree: t.Any
    jsonld: list[dict[str, t.Any]]
    graph: Graph

    @property
    def dataset(self) -> dict[str, t.Any]:
        assert len(self.jsonld) == 1, f"expected one JSON-LD block, got {len(self.jsonld)}"
        return self.jsonld[0]

    def value(self, subject: t.Any, predicate: t.Any) -> t.Any:
        """The one object of ``subject predicate``; fails if there are none or several."""
        objects = list(self.graph.objects(URIRef(str(subject)), predicate))
        assert len(objects) == 1, f"{subject} {predicate}: {objects}"
        return objects[0]

    def values(self, subject: t.Any, predicate: t.Any) -> set[t.Any]:
        return set(self.graph.objects(URIRef(str(subject)), predicate))

    def text(self, subject: t.Any, predicate: t.Any) -> str:
        value = self.value(subject, predicate)
        assert isinstance(value, Literal), f"{subject} {predicate} is not a literal: {value!r}"
        return str(value)


def read_site(html: str, url: str) -> Site:
    """Parse ``html``, served at ``url``: JSON-LD with extruct, RDFa with pyRdfa (rdflib)."""
    jsonld = extruct.extract(html, base_url=url, syntaxes=["json-ld"])["json-ld"]
    return Site(html=html, tree=lxml.html.fromstring(html), jsonld=jsonld, graph=rdfa(html, url))


def rdfa(html: str, url: str) -> Graph:
    """The RDFa triples of ``html`` as an rdflib graph (the parser extruct itself uses)."""
    options = Options(embedded_rdf=False, vocab_expansion=False, vocab_cache=False)
    document = parse_xmldom_html(html, encoding="UTF-8")
    graph: Graph = PyRdfa(options, base=url).graph_from_DOM(document, graph=Graph(), pgraph=Graph())
    return graph
