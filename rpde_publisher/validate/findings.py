"""What a validation found: one finding per fault, and the report that groups them by rule."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum

__all__ = ["Finding", "Report", "Severity", "Verdict", "WalkSummary"]


class Severity(StrEnum):
    """How much a finding matters: only failures make ``validate`` exit non-zero."""

    FAILURE = "failure"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True)
class Finding:
    """One fault: which rule, what is wrong, and where."""

    rule: str
    severity: Severity
    message: str
    #: The page it was seen on, when it belongs to one.
    url: str | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "url": self.url,
        }


@dataclass
class WalkSummary:
    """The figures of one validation, for the report's header."""

    pages: int = 0
    items: int = 0
    deleted_items: int = 0
    last_url: str | None = None
    rewalk_pages: int | None = None
    #: Live items compared with the database (registered feeds only).
    database_items: int | None = None


class Verdict:
    """What every report shares: its failures and warnings, and whether it passes."""

    def every_finding(self) -> Iterable[Finding]:
        """Every finding the verdict counts."""
        raise NotImplementedError

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.every_finding() if f.severity is Severity.FAILURE]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.every_finding() if f.severity is Severity.WARNING]

    def passes(self, *, strict: bool = False) -> bool:
        """No failures; with ``strict``, no warnings either (notices are allowed)."""
        return not self.failures and not (strict and self.warnings)

    def verdict(self, target: str, *, strict: bool) -> dict[str, t.Any]:
        """The JSON-ready head of a report: ``ok`` is the verdict; with ``strict``
        (``--strict``), warnings fail too."""
        return {
            "target": target,
            "ok": self.passes(strict=strict),
            "strict": strict,
            "failures": len(self.failures),
            "warnings": len(self.warnings),
        }


@dataclass
class Report(Verdict):
    """Everything one validation of a feed found."""

    target: str
    findings: list[Finding] = field(default_factory=list)
    summary: WalkSummary = field(default_factory=WalkSummary)
    #: Rule ids that could not run, with the reason (e.g. no database for a URL).
    skipped: dict[str, str] = field(default_factory=dict)

    def every_finding(self) -> Iterable[Finding]:
        return self.findings

    @property
    def ok(self) -> bool:
        """No failures (warnings and notices allowed)."""
        return not self.failures

    def rules_failed(self) -> set[str]:
        """The ids of the rules with at least one failure."""
        return {f.rule for f in self.failures}

    def rules_reported(self) -> set[str]:
        """The ids of the rules with any finding, whatever its severity."""
        return {f.rule for f in self.findings}

    def by_rule(self) -> dict[str, list[Finding]]:
        """The findings grouped by rule id, rules in the order first reported."""
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.rule, []).append(finding)
        return grouped

    def to_dict(self, *, strict: bool = False) -> dict[str, t.Any]:
        """The report as JSON-ready data (what ``validate --json`` prints).

        ``ok`` is the verdict: with ``strict`` (``--strict``), warnings fail too.
        """
        return {
            **self.verdict(self.target, strict=strict),
            "summary": {
                "pages": self.summary.pages,
                "items": self.summary.items,
                "deleted_items": self.summary.deleted_items,
                "last_url": self.summary.last_url,
                "rewalk_pages": self.summary.rewalk_pages,
                "database_items": self.summary.database_items,
            },
            "rules": {
                rule: [finding.to_dict() for finding in findings]
                for rule, findings in self.by_rule().items()
            },
            "skipped": self.skipped,
        }
