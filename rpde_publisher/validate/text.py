"""The readable report: findings grouped by rule, failures first."""

from __future__ import annotations

from .findings import Report
from .findings import Severity
from .rules import RULES
from .rules import RULES_BY_ID

__all__ = ["SHOWN_PER_RULE", "format_report"]

#: Findings listed under each rule before "... and N more".
SHOWN_PER_RULE = 5
_LABELS = {Severity.FAILURE: "FAILED ", Severity.WARNING: "WARNING", Severity.NOTICE: "NOTICE "}


def format_report(report: Report, *, strict: bool = False) -> str:
    """``report`` as text for a terminal or a CI log; with ``strict``, warnings fail too."""
    s = report.summary
    lines = [f"Validated {report.target}"]
    lines.append(
        f"  walked {s.pages:,} page(s), {s.items:,} item(s) ({s.deleted_items:,} deleted);"
        f" last page: {s.last_url or 'not reached'}"
    )
    extra = []
    if s.rewalk_pages is not None:
        extra.append(f"re-walk: {s.rewalk_pages:,} page(s)")
    if s.database_items is not None:
        extra.append(f"database: {s.database_items:,} live item(s) compared")
    if extra:
        lines.append("  " + "; ".join(extra))
    grouped = report.by_rule()
    order = {rule.id: index for index, rule in enumerate(RULES)}
    severity_order = list(Severity)
    ranked = sorted(
        grouped,
        key=lambda rule: (severity_order.index(RULES_BY_ID[rule].severity), order[rule]),
    )
    for rule_id in ranked:
        findings = grouped[rule_id]
        rule = RULES_BY_ID[rule_id]
        lines.append("")
        lines.append(f"{_LABELS[rule.severity]} {rule.id} ({len(findings)}): {rule.summary}")
        for finding in findings[:SHOWN_PER_RULE]:
            where = f"{finding.url}: " if finding.url else ""
            lines.append(f"    - {where}{finding.message}")
        if len(findings) > SHOWN_PER_RULE:
            lines.append(f"    ... and {len(findings) - SHOWN_PER_RULE} more")
    if report.skipped:
        lines.append("")
        lines.append("Not checked:")
        for rule_id, reason in report.skipped.items():
            lines.append(f"    - {rule_id}: {reason}")
    passed = len(RULES) - len(grouped) - len(set(report.skipped) - set(grouped))
    lines.append("")
    verdict = "OK" if report.passes(strict=strict) else "FAILED"
    if strict and report.ok and report.warnings:
        verdict += " (--strict: warnings fail)"
    lines.append(
        f"{passed} rule(s) passed; {len(report.failures)} failure(s),"
        f" {len(report.warnings)} warning(s): {verdict}"
    )
    return "\n".join(lines)
