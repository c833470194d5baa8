"""Side-by-side timing: candidates interleaved round by round, medians and their ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field


@dataclass
class Samples:
    """Seconds per call of each candidate, in the order they were taken."""

    seconds: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def ratio(self, name: str, reference: str) -> float:
        """``name``'s median time over ``reference``'s."""
        return self.median(name) / self.median(reference)

    def spread(self, name: str) -> float:
        """Interquartile range over the median: how noisy the samples were."""
        values = self.seconds[name]
        if len(values) < 4:
            return 0.0
        quartiles = statistics.quantiles(values, n=4)
        return (quartiles[2] - quartiles[0]) / self.median(name)


def interleaved(
    candidates: dict[str, Callable[[], object]], *, repeats: int, warmup: int = 2
) -> Samples:
    """Time each candidate ``repeats`` times, taking turns so that noise hits them alike.

    Each round runs every candidate once, starting with a different one each round.
    """
    for _ in range(warmup):
        for call in candidates.values():
            call()
    samples = Samples({name: [] for name in candidates})
    order = list(candidates.items())
    for round_number in range(repeats):
        shift = round_number % len(order)
        for name, call in order[shift:] + order[:shift]:
            began = time.perf_counter()
            call()
            samples.seconds[name].append(time.perf_counter() - began)
    return samples


def throughput(
    candidates: dict[str, Callable[[], object]], *, calls: int, rounds: int
) -> dict[str, float]:
    """Median calls per second of each candidate, over ``rounds`` interleaved blocks."""

    def block(call: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(calls):
                call()

        return run

    samples = interleaved({name: block(call) for name, call in candidates.items()}, repeats=rounds)
    return {name: calls / samples.median(name) for name in candidates}
