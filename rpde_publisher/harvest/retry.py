"""How long to wait before asking again: ``Retry-After``, RPDE's 60-120 minutes, or a pause."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long a harvester waits after a failed request.

    The defaults follow RPDE 1.0 and OpenActive's harvesting guidance; tests and the
    validator pass much smaller values.
    """

    #: After ``503`` or ``429`` without ``Retry-After``, wait a random number of seconds
    #: in this range: RPDE's "random interval between 60 and 120 minutes".
    unavailable_wait: tuple[float, float] = (3600.0, 7200.0)
    #: The longest wait honoured; a larger ``Retry-After`` is cut down to this.
    max_wait: float = 7200.0
    #: After a dropped connection, a time-out or another ``5xx``, wait this long.
    error_wait: float = 5.0
    #: Failed requests for one page before giving up; ``None`` keeps trying forever.
    attempts: int | None = 12

    def __post_init__(self) -> None:
        low, high = self.unavailable_wait
        if not 0 <= low <= high:
            raise ValueError(
                "unavailable_wait must be (low, high) with 0 <= low <= high,"
                f" got {self.unavailable_wait!r}"
            )
        if self.error_wait < 0 or self.max_wait < 0:
            raise ValueError("error_wait and max_wait must not be negative")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"attempts must be at least 1 (or None), got {self.attempts}")

    def unavailable_delay(self, retry_after: str | None, rng: random.Random) -> float:
        """Seconds to wait after a ``503`` or ``429`` carrying ``retry_after`` (or none)."""
        seconds = parse_retry_after(retry_after)
        if seconds is None:
            seconds = rng.uniform(*self.unavailable_wait)
        return min(seconds, self.max_wait)

    def error_delay(self) -> float:
        """Seconds to wait after a dropped connection, a time-out or a ``5xx``."""
        return min(self.error_wait, self.max_wait)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (given as seconds or an HTTP date); ``None`` if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
