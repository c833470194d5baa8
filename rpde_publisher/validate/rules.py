"""Every rule the validator checks, with its severity and OpenActive's equivalent."""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity

__all__ = ["DATABASE_RULES", "RULES", "RULES_BY_ID", "Rule", "severity_of"]

F, W, N = Severity.FAILURE, Severity.WARNING, Severity.NOTICE


@dataclass(frozen=True)
class Rule:
    """One check ``validate`` makes."""

    id: str
    severity: Severity
    #: What the rule requires, in one line.
    summary: str
    #: The checks of OpenActive's rpde-validator that report the same fault, as
    #: ``"RuleName:error_type"``; empty when only this validator checks it.
    openactive: tuple[str, ...] = ()


RULES: tuple[Rule, ...] = (
    Rule(
        "http-status",
        F,
        "every page answers 200 (after the retries RPDE allows)",
        ("HttpStatusRule:invalid_status_code",),
    ),
    Rule(
        "content-type",
        F,
        "Content-Type is application/json (or the OpenActive RPDE type)",
        ("HttpContentTypeRule:invalid_content_type",),
    ),
    Rule("json-object", F, "the body is a JSON object", ("ValidJsonObjectRule:invalid_json",)),
    Rule(
        "cache-control",
        W,
        "Cache-Control is public, max-age >= 3600 on pages with items, <= 8 on the last page",
        ("HttpCacheHeaderRule:missing_cache_control",),
    ),
    Rule(
        "required-properties",
        F,
        "every page has next, items and license",
        ("RequiredPropertiesRule:missing_required_field",),
    ),
    Rule(
        "property-values",
        F,
        "items is an array, license a string; each item an object with a valid state, a"
        " string kind, a string or number id, and object data",
        ("RequiredPropertyValuesRule:invalid_format",),
    ),
    Rule(
        "item-properties",
        F,
        "each item has state, kind, id and modified; updated items have data; deleted"
        " items have no data key",
        (
            "RequiredItemPropertiesRule:missing_required_field",
            "RequiredItemPropertiesRule:missing_data_in_updated_item",
            "RequiredItemPropertiesRule:unnecessary_data_in_deleted_item",
        ),
    ),
    Rule(
        "next-url-valid", F, "next is an absolute http(s) URL", ("NextPageValidRule:invalid_type",)
    ),
    Rule(
        "next-url-base",
        F,
        "next has the same scheme, host and path as the page",
        ("NextUrlBasePathMatchCurrentPage:base_url_mismatch",),
    ),
    Rule(
        "next-not-self",
        F,
        "a page with items does not have itself as next",
        ("NextPageNotCurrentPageRule:invalid_next_url_for_zero_items",),
    ),
    Rule(
        "after-id",
        F,
        "a next URL with afterTimestamp also has afterId (spelt so)",
        ("AfterTimestampRule:after_id_with_timestamp",),
    ),
    Rule(
        "last-item-next",
        F,
        "next is built from the id and modified of the page's last item",
        ("AfterTimestampRule:last_item_not_matching_next",),
    ),
    Rule(
        "modified-integer",
        F,
        "every item's modified is a JSON integer, not a string",
        ("AfterTimestampRule:invalid_type", "AfterChangeNumberRule:invalid_type"),
    ),
    Rule(
        "cursor-format",
        F,
        "afterTimestamp and afterChangeNumber in next are integers, written as modified is",
        ("AfterTimestampRule:invalid_type", "AfterChangeNumberRule:invalid_type"),
    ),
    Rule(
        "cursor-increases",
        F,
        "each page's next cursor is strictly after the page's own",
        (
            "AfterTimestampRule:after_param_should_increase",
            "AfterChangeNumberRule:after_param_should_increase",
        ),
    ),
    Rule(
        "duplicate-items",
        F,
        "no id appears twice in one walk of the feed",
        ("DuplicateItemsRule:no_duplicate_items",),
    ),
    Rule(
        "deleted-items",
        W,
        "the feed has deleted items (tombstones) somewhere",
        ("DeletedItemsRule:no_deleted_items",),
    ),
    Rule(
        "page-size",
        W,
        "pages other than the last few carry at least 500 items",
        ("MinimumItemsRule:minimum_items_per_page",),
    ),
    Rule(
        "openactive-data",
        N,
        "item data uses OpenActive's @context",
        ("ItemDataPromptRule:no_modelling_data",),
    ),
    Rule(
        "last-page-check",
        F,
        "next URLs carry afterTimestamp or afterChangeNumber as integers, so the last page"
        " can be probed",
        ("LastPageCheckRule:no_last_page_check",),
    ),
    Rule(
        "last-page-probe",
        F,
        "a page far in the future has no items",
        ("NoLastPageItemsRule:last_page_no_items",),
    ),
    Rule(
        "last-page-self",
        F,
        "the last page's next gives the same page again",
        ("LastPageUrlIsSelfRule:last_page_reference_self",),
    ),
    Rule(
        "ordering",
        F,
        "items are in strictly increasing (modified, id) order, within and across every"
        " page, and after the cursor asked for",
    ),
    Rule("modified-range", F, "modified is an integer from 1 to 2**53"),
    Rule("no-last-page", F, "following next reaches a last page (no loops, no dead ends)"),
    Rule("last-page-stable", F, "the last page fetched again is identical"),
    Rule("rewalk", F, "a second walk from the start finds the same ids"),
    Rule(
        "database-skipped",
        F,
        "the harvested copy holds exactly the database's live items (none skipped, no"
        " deleted item kept)",
    ),
    Rule(
        "database-stale",
        F,
        "each harvested item's data equals what the feed publishes now and what its"
        " schema renders from the database now",
    ),
    Rule(
        "database-setup",
        F,
        "the feed's table has its columns and current triggers, every row is stamped, and"
        " the schema and publish_when are those its items were published with",
    ),
)

#: The rules checked only against a registered feed's database.
DATABASE_RULES = ("database-skipped", "database-stale", "database-setup")

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def severity_of(rule_id: str) -> Severity:
    return RULES_BY_ID[rule_id].severity
