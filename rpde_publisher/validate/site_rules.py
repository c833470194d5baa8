"""Every check ``validate --dataset-site`` makes, with the gate of OpenActive's that makes it."""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Finding
from .findings import Severity

__all__ = [
    "CATALOG_CI",
    "CATALOG_REVIEW",
    "DATASET_SITE_MODE",
    "SITE_RULES",
    "SITE_RULES_BY_ID",
    "TEST_SUITE",
    "SiteRule",
    "site_finding",
]

F, W, N = Severity.FAILURE, Severity.WARNING, Severity.NOTICE

#: The gates a dataset site passes on its way into OpenActive's catalogue.
TEST_SUITE = "Test Suite validate-feeds"
DATASET_SITE_MODE = "data-model-validator (DatasetSite mode, run by validate-feeds)"
CATALOG_CI = "data-catalogs CI (@id check)"
CATALOG_REVIEW = "data-catalogs review"


@dataclass(frozen=True)
class SiteRule:
    """One check of a dataset site as a whole."""

    id: str
    severity: Severity
    #: What the rule requires, in one line.
    summary: str
    #: Which of OpenActive's gates refuses a site that breaks it.
    gate: str


SITE_RULES: tuple[SiteRule, ...] = (
    SiteRule(
        "site-page",
        F,
        "the URL answers 200 with an HTML page carrying one JSON-LD block in <head>",
        TEST_SUITE,
    ),
    SiteRule("site-id", F, "the JSON-LD's @id is exactly the URL registered", CATALOG_CI),
    SiteRule(
        "site-context",
        F,
        '@context is ["https://schema.org/", "https://openactive.io/"]',
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-required",
        F,
        "every property the data models require of a dataset site is present",
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-values",
        F,
        "fixed values as required (licence, types, encodingFormat), URLs, dates and arrays"
        " in the form the data models give",
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-empty",
        F,
        "no property is null, an empty string or an empty array",
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-discussion",
        F,
        "discussionUrl is a GitHub issues board (https://github.com/ORG/REPO/issues)",
        CATALOG_REVIEW,
    ),
    SiteRule(
        "site-recommended",
        W,
        "the recommended properties are present (datePublished, dateModified, backgroundImage)",
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-feeds",
        F,
        "no two feeds share an identifier, and at least one feed is of a type the Test Suite"
        " harvests",
        TEST_SUITE,
    ),
    SiteRule(
        "site-feed-type",
        W,
        "every feed is of a type the Test Suite harvests (others are skipped)",
        TEST_SUITE,
    ),
    SiteRule("item-id", F, "every live item's data has an @id", TEST_SUITE),
    SiteRule(
        "orphans",
        F,
        "every child's superEvent or facilityUse is the @id of a live item of a parent feed",
        TEST_SUITE,
    ),
    SiteRule("opportunities", F, "the feeds hold at least one live opportunity", TEST_SUITE),
    SiteRule(
        "bookable-shape",
        F,
        "each opportunity has offers (its own or its parent's) and a parent of the right"
        " type, which the Test Suite reads from every one",
        TEST_SUITE,
    ),
    SiteRule(
        "item-data",
        F,
        "every live item passes the data-model checks in RPDEFeed mode",
        TEST_SUITE,
    ),
    SiteRule(
        "site-settings",
        W,
        "every value the dataset provider gives an organisation's site parses (one that"
        " does not is left out, and the property it fills goes missing)",
        DATASET_SITE_MODE,
    ),
    SiteRule(
        "site-size",
        W,
        "the site holds few enough live items for the Test Suite to validate them within"
        " its one-hour limit",
        TEST_SUITE,
    ),
)

SITE_RULES_BY_ID: dict[str, SiteRule] = {rule.id: rule for rule in SITE_RULES}


def site_finding(rule: str, message: str, url: str | None = None) -> Finding:
    """A finding of site rule ``rule``, with the rule's severity."""
    return Finding(rule, SITE_RULES_BY_ID[rule].severity, message, url)
