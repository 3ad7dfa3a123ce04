"""Cutting and walking doors that have no point on the map: by street and house number.

A voter file gives every door a street and a number, and the geocoder cannot place them
all. Those doors are never dropped onto the map near a neighbour (a door the geocoder
missed at 1413 W Green St is not at 5103): they make turfs of their own.

Cutting lays the doors out street after street, each street by hundred-block and side
(odd, then even; both sides as one for a narrow street), and cuts that row into turfs of
balanced size. A cut falls between streets where it can, else between blocks, else between
the two sides of a block; it goes through one side of one block (a block face) only when
no boundary lies inside the size band, and through a building only when one building is
more than a turf.

Streets follow each other by name (natural order: 2nd St before 10th St), except where the
campaign's located doors show two streets meet: then the street that meets the one just
walked, nearest to where its walk ended, comes next. Located doors are the only source of
where streets are; with none, name order it is.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from turf.cutting.common import (
    Door,
    natural_key,
    number_of,
    street_key,
    streets_and_buildings,
    there_and_back,
)
from turf.cutting.sizes import hard_band, turf_count

# House numbers of one block: 100–199 is a block, 200–299 the next.
BLOCK_NUMBERS = 100
# Streets with located doors in one square of this side, or two touching squares, meet
# (or run side by side one lot apart): either way a canvasser walks from one to the other.
MEET_M = 40

# How much a cut at each kind of boundary is worth: the higher the better.
STREET, BLOCK, SIDE, BUILDING, INSIDE = 4, 3, 2, 1, 0

# {street key: [(other street key, house number here, house number there)]}
Meetings = dict[str, list[tuple[str, int, int]]]


def street_meetings(points: Iterable[tuple[str, str, float, float]]) -> Meetings:
    """Where streets meet, from located doors: (street, house number, x, y in metres).

    The map is cut into squares of MEET_M; each street keeps one door per square. Two
    streets meet where they have doors in one square or in two touching squares; the
    closest such pair of doors says at which house number of each.
    """
    cells = defaultdict(dict)
    for street, house_number, x, y in points:
        number = number_of(house_number)
        if number is None:
            continue
        cell = cells[(math.floor(x / MEET_M), math.floor(y / MEET_M))]
        cell.setdefault(street_key(street), (number, x, y))

    closest = {}
    for (cx, cy), here in cells.items():
        # Each pair of touching squares once: itself, east, north, north-east, south-east.
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (1, -1)):
            there = cells.get((cx + dx, cy + dy))
            if not there:
                continue
            for a, (na, xa, ya) in here.items():
                for b, (nb, xb, yb) in there.items():
                    if a == b or ((dx, dy) == (0, 0) and a > b):
                        continue
                    pair, numbers = ((a, b), (na, nb)) if a < b else ((b, a), (nb, na))
                    d = math.hypot(xa - xb, ya - yb)
                    if pair not in closest or d < closest[pair][0]:
                        closest[pair] = (d, *numbers)
    meetings: Meetings = defaultdict(list)
    for (a, b), (_, na, nb) in closest.items():
        meetings[a].append((b, na, nb))
        meetings[b].append((a, nb, na))
    return dict(meetings)


def _street_chain(streets: Iterable[str], ends: dict[str, int], meetings: Meetings) -> list[str]:
    """Streets in the order they are laid out for cutting: by name, except that a street
    meeting the last one (nearest to its far end, `ends[street]`) comes next."""
    by_name = sorted(streets, key=natural_key)
    remaining = set(by_name)
    chain = []
    cursor = 0
    current = None
    while remaining:
        following = None
        if current is not None:
            met = [
                (abs(here - ends[current]), natural_key(other), other)
                for other, here, _ in meetings.get(current, ())
                if other in remaining
            ]
            if met:
                following = min(met)[2]
        if following is None:
            while by_name[cursor] not in remaining:
                cursor += 1
            following = by_name[cursor]
        chain.append(following)
        remaining.discard(following)
        current = following
    return chain


def _face(door: Door, *, both_sides: bool) -> tuple:
    """Which block face a door is on: (unnumbered?, hundred-block, side)."""
    number = number_of(door.house_number)
    if number is None:
        return (1, 0, 0)
    return (0, number // BLOCK_NUMBERS, 0 if both_sides else 1 + (number + 1) % 2)


def street_layout(
    doors: Sequence[Door], *, both_sides: bool, narrow: set[str], meetings: Meetings
) -> tuple[list[int], list[int]]:
    """The doors in one row for cutting, and the worth of a cut before each position.

    Returns (order, worth): `order` is every index of `doors`, street after street,
    block face after block face, building after building; `worth[p]` is how good a cut
    between order[p - 1] and order[p] is (STREET … INSIDE; worth[0] is unused).
    """
    streets = streets_and_buildings(doors, range(len(doors)))
    ends = {
        street: max((number_of(doors[b[0]].house_number) or 0) for b in buildings)
        for street, buildings in streets.items()
    }
    order: list[int] = []
    worth: list[int] = []
    for street in _street_chain(streets, ends, meetings):
        together = both_sides or street in narrow
        faces = defaultdict(list)
        for building in streets[street]:
            faces[_face(doors[building[0]], both_sides=together)].append(building)
        previous = None
        for face in sorted(faces):
            for b, building in enumerate(faces[face]):
                for u, i in enumerate(building):
                    if u:
                        worth.append(INSIDE)
                    elif b:
                        worth.append(BUILDING)
                    elif previous is None:
                        worth.append(STREET)
                    elif previous[:2] != face[:2]:
                        worth.append(BLOCK)
                    else:
                        worth.append(SIDE)
                    order.append(i)
            previous = face
    return order, worth


def partition_row(worth: Sequence[int], *, doors: int) -> list[tuple[int, int]]:
    """Cut a row of len(worth) doors into turfs of about `doors`: [(start, end), …].

    Every turf is within ±15% of `doors` whenever the count allows it. Inside that band
    each cut goes at the most worthwhile boundary (between streets, then blocks, sides,
    buildings), the nearest to an even share when several are worth as much, and never
    where the doors left over could no longer make balanced turfs.
    """
    n = len(worth)
    if n == 0:
        return []
    turfs = turf_count(n, doors)
    low, high = hard_band(n, turfs, doors)
    cuts = []
    start = 0
    for left in range(turfs, 1, -1):
        remaining = n - start
        even = remaining / left
        # The sizes this turf may take so that what is left still splits into left - 1
        # turfs inside the band.
        smallest = max(low, remaining - (left - 1) * high)
        largest = min(high, remaining - (left - 1) * low)
        if smallest > largest:  # only when no count meets the band: cut evenly
            smallest = largest = round(even)
        best = None
        for size in range(smallest, largest + 1):
            key = (worth[start + size], -abs(size - even))
            if best is None or key > best[0]:
                best = (key, size)
        cuts.append((start, start + best[1]))
        start += best[1]
    cuts.append((start, n))
    return cuts


def street_cut(
    doors: Sequence[Door],
    *,
    doors_per_turf: int,
    both_sides: bool,
    narrow: set[str],
    meetings: Meetings,
) -> list[list[int]]:
    """Groups of indexes of `doors`, each a turf cut by street and house number."""
    order, worth = street_layout(doors, both_sides=both_sides, narrow=narrow, meetings=meetings)
    return [order[a:b] for a, b in partition_row(worth, doors=doors_per_turf)]


def street_walk(
    doors: Sequence[Door], *, both_sides: bool, narrow: set[str], meetings: Meetings
) -> list[int]:
    """Indexes of `doors` in walking order, by street, side and house number.

    The first street by name first; each street up the odd side and back down the even
    one (or zig-zag, for a narrow street); then the street that meets it nearest to where
    its walk ended, entered from the end nearer to that meeting; with none known, the
    next street by name.
    """
    streets = streets_and_buildings(doors, range(len(doors)))
    walks = {}
    for street, buildings in streets.items():
        ways = there_and_back(buildings, doors, zigzag=both_sides or street in narrow)
        walks[street] = [[i for building in way for i in building] for way in ways]

    def number(i):
        return number_of(doors[i].house_number) or 0

    by_name = sorted(streets, key=natural_key)
    remaining = set(by_name)
    order: list[int] = []
    street, way = by_name[0], walks[by_name[0]][0]
    while True:
        order.extend(way)
        remaining.discard(street)
        if not remaining:
            return order
        end = number(way[-1])
        met = [
            (abs(here - end), natural_key(other), other, there)
            for other, here, there in meetings.get(street, ())
            if other in remaining
        ]
        if met:
            _, _, street, there = min(met)
            way = min(walks[street], key=lambda w: abs(number(w[0]) - there))
        else:
            later = [s for s in by_name if s in remaining and natural_key(s) > natural_key(street)]
            street = later[0] if later else next(s for s in by_name if s in remaining)
            way = walks[street][0]
