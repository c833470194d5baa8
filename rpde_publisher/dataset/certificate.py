"""The ODI Open Data Certificate's questions, answered from a dataset site (no Flask).

Since the ODI's 2025 platform no longer fills the questionnaire in from a page, the
checklist prints these answers to paste. The questions and their order are those of the
last questionnaire published as source (``theodi/open-data-certificate``,
``surveys/generated/surveyor/odc_questionnaire.GB.rb``, commit 023f07f, 2021-05-20);
the answers quote its options where it offers some.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .licences import Licence
from .site import RPDE_MEDIA_TYPE

__all__ = [
    "DISTRIBUTION_TERMS",
    "DOCUMENTATION_TERMS",
    "JSON",
    "LICENCE_OPTIONS",
    "RIGHTS_TERMS",
    "Answer",
    "certificate_answers",
    "format_answers",
]

JSON = dict[str, t.Any]

#: The questionnaire's name for each licence ``RPDE_LICENSE`` accepts (its dataLicence
#: options), by SPDX identifier.
LICENCE_OPTIONS = {
    "CC-BY-4.0": "Creative Commons Attribution",
    "CC-BY-SA-4.0": "Creative Commons Attribution Share-Alike",
    "CC0-1.0": "Creative Commons CCZero",
    "OGL-UK-3.0": "UK Open Government Licence",
    "ODC-By-1.0": "Open Data Commons Attribution License",
    "ODbL-1.0": "Open Data Commons Open Database License (ODbL)",
    "PDDL-1.0": "Open Data Commons Public Domain Dedication and Licence (PDDL)",
}
#: The rights statement's RDFa terms, as the questionnaire names them.
RIGHTS_TERMS = {
    "odrs:dataLicense": "data licence",
    "odrs:contentLicense": "content licence",
    "odrs:attributionText": "attribution text",
    "odrs:attributionURL": "attribution URL",
    "odrs:copyrightNotice": "copyright notice or statement",
    "odrs:copyrightYear": "copyright year",
    "odrs:copyrightHolder": "copyright holder",
    "odrs:databaseRightYear": "database right year",
    "odrs:databaseRightHolder": "database right holder",
}
#: The dataset's DCAT terms, as the questionnaire names them.
DOCUMENTATION_TERMS = {
    "dct:title": "title",
    "dct:description": "description",
    "dct:issued": "release date",
    "dct:modified": "modification date",
    "dcat:accrualPeriodicity": "frequency of releases",
    "dct:identifier": "identifier",
    "dcat:landingPage": "landing page",
    "dct:language": "language",
    "dct:publisher": "publisher",
    "dcat:keyword": "keyword(s) or tag(s)",
    "dcat:distribution": "distribution(s)",
}
DISTRIBUTION_TERMS = {
    "dct:title": "title",
    "dcat:accessURL": "URL to access the data",
    "dcat:mediaType": "type of download media",
}


@dataclass(frozen=True)
class Answer:
    """One question of the questionnaire and what to answer."""

    section: str
    question: str
    #: What to paste or pick; ``None`` when the configuration cannot tell.
    answer: str | None
    #: Where the answer comes from, or what to do when there is none.
    note: str = ""


def certificate_answers(jsonld: JSON, rdfa: t.Collection[str], licence: Licence) -> list[Answer]:
    """The questionnaire's questions, answered from a dataset site's JSON-LD and the RDFa
    terms its page carries, in the questionnaire's order."""
    url = jsonld.get("url") or jsonld.get("@id")
    found = jsonld.get("publisher")
    publisher: JSON = found if isinstance(found, dict) else {}
    discussion = jsonld.get("discussionUrl")
    feeds = [d for d in jsonld.get("distribution") or () if isinstance(d, dict)]
    licence_answer = (
        f"{LICENCE_OPTIONS.get(licence.spdx, 'Other...')} ({licence.short_name}, {licence.url})"
    )
    general, legal, practical = "General information", "Legal information", "Practical information"
    technical, social = "Technical information", "Social information"
    yours = "Yours to answer: the configuration cannot tell."
    return [
        Answer(general, "What's this data called?", jsonld.get("name")),
        Answer(
            general,
            "Description",
            jsonld.get("description"),
            "Where the form asks for one (the 2021 form read it from the page).",
        ),
        Answer(general, "Where is it described?", url, "The dataset site."),
        Answer(general, "Who publishes this data?", publisher.get("name")),
        Answer(general, "What is the website of the publisher?", publisher.get("url")),
        Answer(
            general,
            "Contact email",
            publisher.get("email"),
            "Where the form asks for one (RPDE_PUBLISHER_EMAIL).",
        ),
        Answer(
            general, "What kind of release is this?", "a service or API for accessing open data"
        ),
        Answer(
            legal,
            "Do you have the right to make this data open?",
            None,
            yours + " Your terms with each organisation (step 3) are what give you the right.",
        ),
        Answer(
            legal,
            "Where have you published the rights statement for this dataset?",
            url if "dct:rights" in rdfa else None,
            "The dataset site's rights statement (ODRS).",
        ),
        Answer(legal, "Under which licence can people reuse this data?", licence_answer),
        Answer(
            legal,
            "Is there any copyright in the content of this data?",
            None,
            yours + " Descriptions and images are content; the next answer covers them.",
        ),
        Answer(
            legal,
            "Under which licence can others reuse content?",
            licence_answer if "odrs:contentLicense" in rdfa else None,
            "The dataset site licenses the content under RPDE_LICENSE too.",
        ),
        Answer(
            legal,
            "Where are the rights and licensing of the content explained?",
            url if "odrs:contentLicense" in rdfa else None,
        ),
        Answer(
            legal,
            "Does your rights statement include machine-readable versions of",
            _listed(RIGHTS_TERMS, rdfa),
            "Tick these.",
        ),
        Answer(
            legal,
            "Can individuals be identified from this data?",
            None,
            yours + " Opportunity data describes sessions, places and organisations; a"
            " leader's or contact's name in your items may be personal data.",
        ),
        Answer(
            practical,
            "Is there a link to your data from your main website?",
            None,
            f"Link the dataset site from {publisher.get('url') or 'your website'}, then"
            " answer yes with that page.",
        ),
        Answer(
            practical,
            "Is your data listed within a collection?",
            "yes: OpenActive's data catalogue,"
            " https://openactive.io/data-catalogs/data-catalog-collection.jsonld",
            "Once the registration pull request (below) is merged.",
        ),
        Answer(
            practical,
            "Does the data behind your API change?",
            "yes, the API gives access to changing data",
            "Near real time: every change is published through the RPDE 1.0 feeds as it happens.",
        ),
        Answer(
            practical,
            "Will your data be corrected if it has errors?",
            None,
            yours + (f" Data users report errors at {discussion}." if discussion else ""),
        ),
        Answer(
            practical,
            "Where do you document issues with the quality of this data?",
            discussion,
            "The GitHub issues board where data users raise them.",
        ),
        Answer(
            technical,
            "Where is the endpoint for your API?",
            "; ".join(f"{d.get('name')}: {d.get('contentUrl')}" for d in feeds) or None,
            "The RPDE feeds, one per opportunity type.",
        ),
        Answer(technical, "Is this data machine-readable?", "yes"),
        Answer(
            technical,
            "Is this data in a standard open format?",
            f"yes: JSON, RPDE 1.0 ({RPDE_MEDIA_TYPE}), items in OpenActive's Modelling"
            " Opportunity Data 2.0",
        ),
        Answer(
            technical,
            "What kind of data is being provided as part of this dataset?",
            "other kinds of structured data",
        ),
        Answer(
            technical,
            "What formats are your structured data files published in?",
            "formats which are designed for structured data like JSON, XML, Turtle or CSV",
        ),
        Answer(
            technical,
            "Does your data use persistent identifiers?",
            "yes",
            "Every item has an RPDE id, and its data an @id.",
        ),
        Answer(
            social,
            "Does your data documentation include machine-readable data for:",
            _listed(DOCUMENTATION_TERMS, rdfa),
            "Tick these (the dataset site's DCAT).",
        ),
        Answer(
            social,
            "Does your documentation include machine-readable metadata for each individual"
            " data file on:",
            _listed(DISTRIBUTION_TERMS, rdfa) if "dcat:distribution" in rdfa else None,
            "Tick these.",
        ),
        Answer(
            social,
            "Release date",
            jsonld.get("datePublished"),
            "Where the form asks for one (RPDE_DATE_PUBLISHED).",
        ),
        Answer(
            social,
            "Where is the technical documentation for the data?",
            jsonld.get("documentation"),
        ),
        Answer(
            social,
            "Do the data formats use vocabularies or schemas?",
            f"yes: {jsonld.get('schemaVersion')}" if jsonld.get("schemaVersion") else None,
            "Give the URL as the schema documentation.",
        ),
        Answer(
            social,
            "Where can people find out how to contact someone with questions about this data?",
            url,
            "The dataset site shows the publisher's email.",
        ),
        Answer(
            social,
            "Where can people find out how to improve the way your data is published?",
            discussion,
        ),
        Answer(social, "Where should people discuss this dataset?", discussion),
        Answer(
            social, "Where can people find out how to request corrections to your data?", discussion
        ),
    ]


def _listed(terms: dict[str, str], rdfa: t.Collection[str]) -> str | None:
    present = [label for term, label in terms.items() if term in rdfa]
    return ", ".join(present) or None


def format_answers(answers: t.Sequence[Answer]) -> list[str]:
    """The answers as lines of text, by section, ready to paste."""
    lines: list[str] = []
    section = None
    for answer in answers:
        if answer.section != section:
            section = answer.section
            lines.append(f"{section}:")
        lines.append(f"  Q: {answer.question}")
        lines.append(f"  A: {answer.answer if answer.answer is not None else '(see note)'}")
        if answer.note:
            lines.append(f"     {answer.note}")
    return lines
