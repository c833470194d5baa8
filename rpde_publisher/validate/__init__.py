"""Validate an RPDE feed: every rule OpenActive's rpde-validator checks, and what it cannot."""

from .database import DatabaseComparison
from .findings import Finding
from .findings import Report
from .findings import Severity
from .findings import WalkSummary
from .rules import Rule
from .rules import RULES
from .rules import RULES_BY_ID
from .text import format_report
from .walk import DatabaseCheck
from .walk import Progress
from .walk import validate_feed

__all__ = [
    "RULES",
    "RULES_BY_ID",
    "DatabaseCheck",
    "DatabaseComparison",
    "Finding",
    "Progress",
    "Report",
    "Rule",
    "Severity",
    "WalkSummary",
    "format_report",
    "validate_feed",
]
