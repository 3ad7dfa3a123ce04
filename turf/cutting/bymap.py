"""Cutting located doors by the map, and walking them in map order.

Cutting is a recursive balanced bisection on the map: the doors are split along the longer
side of their bounding box into two groups whose sizes are proportional to the number of
turfs each will become, down to one turf per group. That keeps turfs compact (neighbouring
doors end up together, no two turfs' boxes overlap) and every turf's size inside a band
around the target. Within the band a cut prefers a wide gap between doors (a park, a
highway, the space between blocks) over splitting a row of houses.

Walk order follows how canvassers walk: up one side of a street and back down the other
(or zig-zag across a narrow street), one building's apartments together, then on to the
nearest street.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

from turf.cutting.common import Door, number_of, streets_and_buildings, there_and_back
from turf.cutting.sizes import size_band, turf_count

# Two buildings of one street further apart than this are walked as separate stretches.
STRETCH_GAP_M = 250


def partition_doors(positions: Sequence[tuple[float, float]], *, doors: int) -> list[list[int]]:
    """Split points (x, y in metres) into groups of about `doors`; returns index lists.

    Pure and deterministic: no database. Groups come out in a map order (neighbouring
    groups tend to have neighbouring numbers).
    """
    n = len(positions)
    if n == 0:
        return []
    k = turf_count(n, doors)
    low, high = size_band(n, k, doors)
    xs = [p[0] for p in positions]
    ys = [p[1] for p in positions]
    # Sort once along each axis; a split keeps both orders by filtering, which is far cheaper
    # than sorting again at every level.
    by_x = sorted(range(n), key=lambda i: (xs[i], ys[i], i))
    by_y = sorted(range(n), key=lambda i: (ys[i], xs[i], i))
    on_left = bytearray(n)
    groups: list[list[int]] = []
    # An explicit stack, first half on top, keeps groups in map order without recursion.
    stack = [(by_x, by_y, k)]
    while stack:
        along_x, along_y, parts = stack.pop()
        if parts == 1:
            groups.append(along_x)
            continue
        left_parts = parts // 2
        right_parts = parts - left_parts
        wide = xs[along_x[-1]] - xs[along_x[0]] >= ys[along_y[-1]] - ys[along_y[0]]
        ordered, other, coords = (along_x, along_y, xs) if wide else (along_y, along_x, ys)
        size = len(ordered)
        q, r = divmod(size, parts)
        even = left_parts * q + min(left_parts, r)
        first = max(left_parts * low, size - right_parts * high)
        last = min(left_parts * high, size - right_parts * low)
        cut = _best_cut(ordered, coords, first, last, even)
        left, right = ordered[:cut], ordered[cut:]
        for i in left:
            on_left[i] = 1
        other_left = [i for i in other if on_left[i]]
        other_right = [i for i in other if not on_left[i]]
        for i in left:
            on_left[i] = 0
        if wide:
            stack.append((right, other_right, right_parts))
            stack.append((left, other_left, left_parts))
        else:
            stack.append((other_right, right, right_parts))
            stack.append((other_left, left, left_parts))
    return groups


def _best_cut(ordered, coords, first, last, even):
    """Where to cut `ordered` (indexes sorted by `coords`) between positions first..last.

    Wider gaps between neighbouring doors win, weighed down the further the cut strays from
    the even split, so turfs break between blocks rather than through a row of houses.
    """
    if first >= last:
        return first
    reach = max(even - first, last - even, 1)
    best, best_score = even, -1.0
    previous = coords[ordered[first - 1]]
    for i in range(first, last + 1):
        here = coords[ordered[i]]
        score = (here - previous) * (1.0 - 0.5 * abs(i - even) / reach)
        previous = here
        if score > best_score or (score == best_score and abs(i - even) < abs(best - even)):
            best, best_score = i, score
    return best


class _Stretch(NamedTuple):
    street: str
    walks: list[tuple[list[int], tuple[float, float], tuple[float, float]]]
    first_number: int


def map_walk(
    doors: Sequence[Door],
    positions: Sequence[tuple[float, float]],
    *,
    both_sides: bool,
    narrow: set[str],
) -> list[int]:
    """Indexes of located `doors` in walking order (see services.walk_order)."""
    stretches = []
    for street, ordered in streets_and_buildings(doors, range(len(doors))).items():
        zigzag = both_sides or street in narrow
        for run in _split_far_apart(ordered, positions):
            stretches.append(_stretch(street, run, doors, positions, zigzag=zigzag))

    if not stretches:
        return []
    # Start at the south-west corner so organizers can predict where a walk list begins.
    min_x = min(p[0] for p in positions)
    min_y = min(p[1] for p in positions)
    corner = (min_x, min_y)
    order: list[int] = []
    remaining = list(range(len(stretches)))
    here = corner
    while remaining:
        best = None
        for s in remaining:
            stretch = stretches[s]
            for walk, start, end in stretch.walks:
                key = (_distance(here, start), stretch.street, stretch.first_number)
                if best is None or key < best[0]:
                    best = (key, s, walk, end)
        _, s, walk, end = best
        order.extend(walk)
        here = end
        remaining.remove(s)
    return order


def _distance(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _split_far_apart(buildings, positions):
    """Break a street's buildings (in number order) where they are far apart on the map."""
    run = [buildings[0]]
    for previous, building in zip(buildings, buildings[1:], strict=False):
        if _distance(positions[previous[0]], positions[building[0]]) > STRETCH_GAP_M:
            yield run
            run = []
        run.append(building)
    yield run


def _stretch(street, buildings, doors, positions, *, zigzag):
    walks = []
    for sequence in there_and_back(buildings, doors, zigzag=zigzag):
        flat = [i for building in sequence for i in building]
        walks.append((flat, positions[flat[0]], positions[flat[-1]]))
    numbers = (number_of(doors[b[0]].house_number) for b in buildings)
    first = next((n for n in numbers if n is not None), 0)
    return _Stretch(street, walks, first)
