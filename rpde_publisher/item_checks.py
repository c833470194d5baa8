"""What a write does with the item data it renders: check it against OpenActive's model."""

from __future__ import annotations

import logging
import re
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from functools import partial

from .errors import ConfigurationError
from .errors import ItemDataError
from .openactive.checks import check_item
from .openactive.checks import ItemMessage
from .openactive.vocabulary import Vocabularies
from .openactive.vocabulary import vocabularies_from

if t.TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .feed import Feed
    from .registry import TableRules

__all__ = [
    "CHECK_LEVELS",
    "WARN_ITEMS_PER_WRITE",
    "CheckLevel",
    "ItemCheck",
    "ItemChecks",
    "check_unrendered",
    "configure_item_checks",
    "default_level",
]

logger = logging.getLogger("rpde_publisher.item_checks")

CheckLevel = t.Literal["off", "warn", "error"]
CHECK_LEVELS: tuple[CheckLevel, ...] = ("off", "warn", "error")
#: Checks one rendered item: its id and its data.
ItemCheck = Callable[[t.Any, Mapping[str, t.Any]], None]
#: Distinct problems a process logs at most: a feed with a new problem on every item
#: must not grow memory without bound.
_MAX_LOGGED = 10_000
#: Items of one table one write checks at most under ``warn``. A write re-rendering many
#: items (an edit of a venue a thousand series embed) changes them alike, so the first
#: show what it did, and each problem is logged once anyway; ``error`` checks them all.
WARN_ITEMS_PER_WRITE = 20
_INDEX = re.compile(r"\[\d+\]")


def default_level(*, testing: bool) -> CheckLevel:
    """``error`` in the publisher's own tests (a mistake fails the test that wrote it);
    ``warn`` elsewhere (a booking is never refused for its open data: the problem is
    logged once, for the publisher to fix)."""
    return "error" if testing else "warn"


def configure_item_checks(
    checks: ItemChecks, config: Mapping[str, t.Any], *, testing: bool
) -> None:
    """Configure ``checks`` from ``RPDE_ITEM_CHECKS``, ``RPDE_ACTIVITY_LIST`` and
    ``RPDE_FACILITY_TYPES``: the lists are loaded here, at start-up, never in a write."""
    level = config.get("RPDE_ITEM_CHECKS") or default_level(testing=testing)
    if level not in CHECK_LEVELS:
        raise ConfigurationError(
            f"RPDE_ITEM_CHECKS must be one of {', '.join(CHECK_LEVELS)}, got {level!r}."
        )
    vocabularies = Vocabularies()
    if level != "off":
        vocabularies = vocabularies_from(
            config.get("RPDE_ACTIVITY_LIST"), config.get("RPDE_FACILITY_TYPES")
        )
    checks.configure(level, vocabularies)


class ItemChecks:
    """One ``RPDE``'s item checks: ``off``, ``warn`` (log each new problem once, by feed,
    rule and path) or ``error`` (a failure raises :class:`~rpde_publisher.ItemDataError`
    and the write does not commit). Configured at ``init_app``; a read never checks."""

    def __init__(
        self,
        level: CheckLevel = "off",
        vocabularies: Vocabularies | None = None,
        check: Callable[..., list[ItemMessage]] = check_item,
    ) -> None:
        #: ``"off"``, ``"warn"`` or ``"error"``.
        self.level: CheckLevel = level
        #: The activity list and facility types the checks look concepts up in.
        self.vocabularies = vocabularies or Vocabularies()
        self._check = check
        self._logged: set[tuple[str, str, str]] = set()

    def configure(self, level: CheckLevel, vocabularies: Vocabularies) -> None:
        """Set the level and the concept lists the checks look concepts up in."""
        self.level = level
        self.vocabularies = vocabularies

    def for_feed(self, feed: Feed, *, renders: bool = True) -> ItemCheck | None:
        """The check of ``feed``'s items at a write; ``None`` when off, or when the feed's
        kind is not one of OpenActive's (no model to check it against).

        ``renders``: whether the write renders the items anyway. A write that does not
        (``render_at="read"``, ``data=None``) renders them for the check only under
        ``error``: in the publisher's tests, not at the cost of production writes.
        """
        if self.level == "off" or feed.feed_type is None:
            return None
        if not renders and self.level != "error":
            return None
        check = partial(self.check, feed.name)
        return check if self.level == "error" else _FirstItems(check, WARN_ITEMS_PER_WRITE)

    def check(self, feed_name: str, item_id: t.Any, data: Mapping[str, t.Any]) -> None:
        """Check one item's data; raise or log as the level says."""
        messages = self._check(data, vocabularies=self.vocabularies)
        failures = [m for m in messages if m.severity == "failure"]
        if failures and self.level == "error":
            raise ItemDataError(feed_name, item_id, failures)
        for message in messages:
            if message.severity != "suggestion":
                self._log_once(feed_name, item_id, message)

    def _log_once(self, feed_name: str, item_id: t.Any, message: ItemMessage) -> None:
        key = (feed_name, message.rule, _without_indexes(message.path))
        if key in self._logged or len(self._logged) >= _MAX_LOGGED:
            return
        self._logged.add(key)
        logger.warning(
            "Feed %r, item %r: %s %s at %s: %s (logged once per feed, rule and path;"
            " `flask rpde check-items %s` lists every item)",
            feed_name,
            item_id,
            message.severity,
            message.rule,
            message.path,
            message.message,
            feed_name,
        )


class _FirstItems:
    """``check`` on the first ``limit`` items it is called with, and no more."""

    def __init__(self, check: ItemCheck, limit: int) -> None:
        self._check = check
        self._left = limit

    def __call__(self, item_id: t.Any, data: Mapping[str, t.Any]) -> None:
        if self._left > 0:
            self._left -= 1
            self._check(item_id, data)


def check_unrendered(connection: Connection, rules: TableRules | None, ids: list[t.Any]) -> None:
    """Run the item checks on written items whose data the write does not render
    (``render_at="read"``, ``data=None``): only under ``RPDE_ITEM_CHECKS = "error"``."""
    check = rules.item_check if rules is not None else None
    feed = rules.checked_feed if rules is not None else None
    if check is not None and feed is not None and ids:
        feed.renderer.render(connection, ids, check=check)


def _without_indexes(path: str) -> str:
    """``$.offers[2].price`` as ``$.offers[*].price``: one problem, whichever element."""
    return _INDEX.sub("[*]", path)
