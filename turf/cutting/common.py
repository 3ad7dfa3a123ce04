"""What cutting and walk order share: a door's parts, and the keys doors sort by."""

import functools
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LNG = 111_320.0

_DIGITS = re.compile(r"\d+")
_DIGIT_RUNS = re.compile(r"(\d+)")
_PUNCTUATION = re.compile(r"[.,]")


class Door(NamedTuple):
    """The parts of a household that cutting and walk order look at."""

    pk: int
    house_number: str
    street: str
    unit: str
    lat: float | None
    lng: float | None

    @property
    def located(self):
        return self.lat is not None and self.lng is not None


DOOR_FIELDS = ("pk", "house_number", "street", "unit", "lat", "lng")


# House numbers, street names and units repeat a great deal in a voter file: cache their keys.
@functools.lru_cache(maxsize=1 << 16)
def number_of(house_number: str) -> int | None:
    match = _DIGITS.search(house_number or "")
    return int(match.group()) if match else None


@functools.lru_cache(maxsize=1 << 16)
def street_key(street: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", street or "").lower().split())


@functools.lru_cache(maxsize=1 << 16)
def natural_key(text: str) -> tuple:
    """'Apt 2' before 'Apt 10', '2nd Ave' before '10th Ave'; letters compare without case."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGIT_RUNS.split((text or "").strip().lower())
        if part
    )


def walk_sort_key(door: Door):
    number = number_of(door.house_number)
    return (
        natural_key(street_key(door.street)),
        number is None,
        number or 0,
        natural_key(door.house_number),
        natural_key(door.unit),
    )


def x_scale(lat0: float) -> float:
    return M_PER_DEG_LNG * math.cos(math.radians(lat0))


def to_metres(doors: Sequence[Door]) -> list[tuple[float, float]]:
    """Each located door's (x, y) in metres on a local flat map (all must be located)."""
    if not doors:
        return []
    lat0 = sum(d.lat for d in doors) / len(doors)
    scale = x_scale(lat0)
    return [(d.lng * scale, d.lat * M_PER_DEG_LAT) for d in doors]


def streets_and_buildings(doors: Sequence[Door], indexes) -> dict[str, list[list[int]]]:
    """{street key: its buildings in number order}, a building being the indexes of its
    doors (units in natural order: 2 before 10)."""
    streets = defaultdict(lambda: defaultdict(list))
    for i in indexes:
        door = doors[i]
        streets[street_key(door.street)][(door.house_number or "").strip().lower()].append(i)
    result = {}
    for street, buildings in streets.items():
        ordered = [
            sorted(units, key=lambda i: (natural_key(doors[i].unit), doors[i].pk or 0))
            for units in buildings.values()
        ]
        ordered.sort(key=lambda units: walk_sort_key(doors[units[0]]))
        result[street] = ordered
    return result


def there_and_back(buildings, doors: Sequence[Door], *, zigzag: bool):
    """The two ways to walk one street's `buildings` (in number order): (forward, backward).

    Up the odd side and back down the even side, or the same from the far end; with
    `zigzag` both sides together in number order, one way or the other. Buildings
    without a number come last.
    """
    if zigzag:
        return list(buildings), list(buildings)[::-1]
    numbers = [number_of(doors[b[0]].house_number) for b in buildings]
    odd = [b for b, n in zip(buildings, numbers, strict=True) if n is not None and n % 2]
    even = [b for b, n in zip(buildings, numbers, strict=True) if n is not None and not n % 2]
    unnumbered = [b for b, n in zip(buildings, numbers, strict=True) if n is None]
    return odd + even[::-1] + unnumbered, odd[::-1] + even + unnumbered
