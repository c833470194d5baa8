"""A checklist step and its findings: what is done, what is missing, what is advised."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

__all__ = ["ORGANISATIONS_LISTED", "Item", "Status", "Step", "format_checklist"]

Status = t.Literal["done", "missing", "advice"]
#: How many organisations with problems are listed before the rest are counted.
ORGANISATIONS_LISTED = 20


@dataclass(frozen=True)
class Item:
    """One finding: ``done``, ``missing`` (required; the command fails) or ``advice``."""

    status: Status
    text: str



@dataclass
class Step:
    """One of the five steps and what was found for it."""

    number: int
    title: str
    items: list[Item] = field(default_factory=list)
    #: Text printed after the items, ready to paste (step 5's answers and entry).
    details: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return all(item.status != "missing" for item in self.items)

    def add(self, status: Status, text: str) -> None:
        self.items.append(Item(status, text))



def format_checklist(steps: list[Step]) -> str:
    """The checklist as text for a terminal."""
    marks = {"done": "[x]", "missing": "[ ]", "advice": " - "}
    lines = []
    for step in steps:
        lines.append(f"{step.number}. {step.title}: {'DONE' if step.done else 'MISSING'}")
        lines.extend(f"   {marks[item.status]} {item.text}" for item in step.items)
        if step.details:
            lines.append("")
            lines.extend(f"   {line}".rstrip() for line in step.details)
        lines.append("")
    done = sum(step.done for step in steps)
    lines.append(f"{done} of {len(steps)} steps done.")
    return "\n".join(lines)

