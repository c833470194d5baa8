"""The readable report of a dataset site: its own findings, each feed's, the verdict."""

from __future__ import annotations

from .findings import Finding
from .findings import Severity
from .site import SiteReport
from .site_rules import SITE_RULES
from .site_rules import SITE_RULES_BY_ID
from .text import SHOWN_PER_RULE

__all__ = ["format_site_report"]

_LABELS = {Severity.FAILURE: "FAILED ", Severity.WARNING: "WARNING", Severity.NOTICE: "NOTICE "}


def format_site_report(report: SiteReport, *, strict: bool = False) -> str:
    """``report`` as text for a terminal or a CI log; with ``strict``, warnings fail too."""
    lines = [f"Dataset site {report.url}"]
    lines.append("  checked as OpenActive's Test Suite (validate-feeds) checks it")
    for name, feed in report.feeds.items():
        s = feed.summary
        verdict = "OK" if feed.passes(strict=strict) else "FAILED"
        if feed.warnings:
            verdict += f" ({len(feed.warnings)} warning(s))"
        lines.append(
            f"  feed {name}: {s.pages:,} page(s), {s.items:,} item(s)"
            f" ({s.deleted_items:,} deleted): {verdict}"
        )
    count = report.opportunities
    if count is not None:
        lines.append(
            f"  {report.live_items:,} live item(s); {count.opportunities:,} opportunities;"
            f" {count.children:,} reference a parent, {count.orphans:,} of them orphans"
        )
    order = {rule.id: index for index, rule in enumerate(SITE_RULES)}
    grouped: dict[str, list[Finding]] = {}
    for finding in report.findings:
        grouped.setdefault(finding.rule, []).append(finding)
    severity_order = list(Severity)
    for rule_id in sorted(
        grouped, key=lambda r: (severity_order.index(SITE_RULES_BY_ID[r].severity), order[r])
    ):
        rule = SITE_RULES_BY_ID[rule_id]
        findings = grouped[rule_id]
        lines.append("")
        lines.append(f"{_LABELS[rule.severity]} {rule.id} ({len(findings)}): {rule.summary}")
        verb = "refused by" if rule.severity is Severity.FAILURE else "checked by"
        lines.append(f"    ({verb}: {rule.gate})")
        lines.extend(_shown(findings))
    for name, feed in report.feeds.items():
        faults = feed.failures + feed.warnings
        if not faults:
            continue
        lines.append("")
        lines.append(f"Feed {name} ({feed.target}): `validate` reports, by rule:")
        by_rule: dict[str, list[Finding]] = {}
        for finding in faults:
            by_rule.setdefault(finding.rule, []).append(finding)
        for rule_id, findings in by_rule.items():
            lines.append(f"  {_LABELS[findings[0].severity]} {rule_id} ({len(findings)})")
            lines.extend("  " + line for line in _shown(findings))
    if report.skipped:
        lines.append("")
        lines.append("Not checked:")
        lines.extend(f"    - {rule}: {reason}" for rule, reason in report.skipped.items())
    lines.append("")
    passes = report.passes(strict=strict)
    verdict = "would pass" if passes else "would FAIL"
    if strict and not report.failures and report.warnings:
        verdict += " (--strict: warnings fail)"
    lines.append(
        f"{len(report.failures)} failure(s), {len(report.warnings)} warning(s): {verdict}"
        " the checks OpenActive's registration makes"
        + (" that can be made here" if "item-data" in report.skipped else "")
        + "."
    )
    return "\n".join(lines)


def _shown(findings: list[Finding]) -> list[str]:
    lines = []
    for finding in findings[:SHOWN_PER_RULE]:
        where = f"{finding.url}: " if finding.url else ""
        lines.append(f"    - {where}{finding.message}")
    if len(findings) > SHOWN_PER_RULE:
        lines.append(f"    ... and {len(findings) - SHOWN_PER_RULE} more")
    return lines
