"""How many turfs a number of doors makes, and how far turf sizes may stray from the target."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Every turf is within ±15% of the target size (when any split of the doors allows it).
TOLERANCE_PERCENT = 15
# Inside that, the map cutter aims for ±8% of the average so turfs come out evenly sized,
# using the slack only to cut along gaps between blocks.
PREFERRED_TOLERANCE = 0.08


def turf_count(households: int, doors: int) -> int:
    """How many turfs `households` doors make at about `doors` each.

    The count whose turf sizes stray least from the target: with fewer doors than 85% of
    the target that is one turf; otherwise it is n // doors or the next number up.
    """
    if households * 100 < (100 - TOLERANCE_PERCENT) * doors:
        return 1

    def worst_deviation(k):
        q, r = divmod(households, k)
        return max(abs(q - doors), abs(q + (1 if r else 0) - doors))

    candidates = {max(1, households // doors), max(1, -(-households // doors))}
    return min(candidates, key=lambda k: (worst_deviation(k), k))


def size_band(households: int, turfs: int, doors: int) -> tuple[int, int]:
    """The smallest and largest turf the cutter may make."""
    q, r = divmod(households, turfs)
    average = households / turfs
    hard_low = -(-(100 - TOLERANCE_PERCENT) * doors // 100)
    hard_high = (100 + TOLERANCE_PERCENT) * doors // 100
    low = max(hard_low, math.floor(average * (1 - PREFERRED_TOLERANCE)))
    high = min(hard_high, math.ceil(average * (1 + PREFERRED_TOLERANCE)))
    # When no split can meet the hard band, the even split q / q+1 is the best there is.
    return min(low, q), max(high, q + (1 if r else 0))


@dataclass(frozen=True)
class Spread:
    turfs: int
    smallest: int
    largest: int
    mean: float
    max_deviation_percent: float

    def __str__(self):
        return (
            f"{self.turfs} turfs: smallest {self.smallest}, largest {self.largest}, "
            f"mean {self.mean:.1f} doors; furthest from target {self.max_deviation_percent:.1f}%"
        )


def size_spread(sizes: Sequence[int], doors: int) -> Spread:
    """How far turf sizes stray from the target `doors`."""
    if not sizes:
        return Spread(0, 0, 0, 0.0, 0.0)
    return Spread(
        turfs=len(sizes),
        smallest=min(sizes),
        largest=max(sizes),
        mean=sum(sizes) / len(sizes),
        max_deviation_percent=max(abs(s - doors) for s in sizes) * 100 / doors,
    )


def hard_band(households: int, turfs: int, doors: int) -> tuple[int, int]:
    """The whole ±15% band around `doors`, or the even split when no split can meet it."""
    q, r = divmod(households, turfs)
    low = -(-(100 - TOLERANCE_PERCENT) * doors // 100)
    high = (100 + TOLERANCE_PERCENT) * doors // 100
    return min(low, q), max(high, q + (1 if r else 0))
