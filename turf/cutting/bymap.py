"""Cutting located doors by the map, and walking them in map order.

Cutting is a recursive balanced bisection on the map: the doors are split along the longer
side of their bounding box into two groups whose sizes are proportional to the number of
turfs each will become, down to one turf per group. That keeps turfs compact and every
turf's size inside a band around the target. Within the band a cut prefers a wide gap (a
park, a highway, a street) over splitting a row of houses.

turf_cut cuts whole blocks, not doors (block_faces, _partition_units): a block face (one
side of one block of one street) is split between turfs only when the ±15% band leaves no
other way, as when one face alone is more than a turf, and a building (one address, its
units) only when nothing else will do; a last pass (_mend) puts back together what it can.
A turf that ends halfway along a block face sends two volunteers down the same street.
Without blocks (partition_doors on bare points) every cut is a straight line between doors
and no two groups' boxes overlap.

Walk order follows how canvassers walk: up one side of a street and back down the other
(or zig-zag across a narrow street), one building's apartments together, then on to the
nearest street.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

from turf.cutting.common import (
    Door,
    number_of,
    street_key,
    streets_and_buildings,
    there_and_back,
)
from turf.cutting.sizes import hard_band, size_band, turf_count

# House numbers of one block: 100–199 is a block, 200–299 the next.
BLOCK_NUMBERS = 100
# Faces of two streets whose ends are this close meet at a corner of the block they face
# (a corner lot or two may be missing from a voter file).
CORNER_M = 30
# Two buildings of one street further apart than this are walked as separate stretches.
STRETCH_GAP_M = 250


class Units(NamedTuple):
    """Which block, block face and building each door is on: one id a door in each list."""

    blocks: list[int]
    faces: list[int]
    buildings: list[int]


def block_faces(
    doors: Sequence[Door],
    positions: Sequence[tuple[float, float]],
    *,
    both_sides: bool,
    narrow: set[str],
) -> Units:
    """The blocks, block faces and buildings of located `doors` (positions in metres).

    A building is one address (street and house number) whatever its units. A block face is
    one side of one block: the buildings of one street with numbers in one hundred-block
    (100–199, 200–299…) on one side (odd or even; both sides as one on a street walked both
    sides), broken where two buildings next in number are more than STRETCH_GAP_M apart on
    the map (two towns' Main Streets). A door without a number is a face and a building of
    its own. A block is the faces walked round it: faces of two streets whose ends lie
    within CORNER_M of each other (each end joined to the nearest such end only) meet at
    its corner.
    """
    faces = [0] * len(doors)
    buildings = [0] * len(doors)
    building_ids: dict[tuple[str, str], int] = {}
    members: list[list[int]] = []
    by_face: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    for i, door in enumerate(doors):
        street = street_key(door.street)
        number = number_of(door.house_number)
        if number is None:
            buildings[i] = len(members)
            members.append([i])
            by_face[(street, -1 - i, 0)] = [(0, buildings[i])]
            continue
        key = (street, (door.house_number or "").strip().lower())
        building = building_ids.get(key)
        if building is None:
            building = building_ids[key] = len(members)
            members.append([])
            side = 0 if both_sides or street in narrow else 1 + number % 2
            by_face.setdefault((street, number // BLOCK_NUMBERS, side), []).append(
                (number, building)
            )
        members[building].append(i)
        buildings[i] = building
    streets: list[str] = []
    ends: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for (street, _, _), face in by_face.items():
        face.sort()
        runs = [[]]
        previous = None
        for _, building in face:
            here = positions[members[building][0]]
            if previous is not None and _distance(previous, here) > STRETCH_GAP_M:
                runs.append([])
            previous = here
            runs[-1].append(building)
        for run in runs:
            for building in run:
                for i in members[building]:
                    faces[i] = len(streets)
            streets.append(street)
            ends.append((positions[members[run[0]][0]], positions[members[run[-1]][0]]))
    block_of = _corners_joined(streets, ends)
    return Units([block_of[f] for f in faces], faces, buildings)


def _corners_joined(streets, ends):
    """Each face's block id: faces joined where their ends meet at a corner (block_faces)."""
    parent = list(range(len(streets)))

    def root(f):
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    cells: dict[tuple[int, int], list[tuple[int, tuple[float, float]]]] = {}
    for f, pair in enumerate(ends):
        for end in pair:
            cells.setdefault(
                (math.floor(end[0] / CORNER_M), math.floor(end[1] / CORNER_M)), []
            ).append((f, end))
    for f, pair in enumerate(ends):
        for end in pair:
            cx, cy = math.floor(end[0] / CORNER_M), math.floor(end[1] / CORNER_M)
            nearest = None
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for g, other in cells.get((cx + dx, cy + dy), ()):
                        if streets[g] == streets[f]:
                            continue
                        d = _distance(end, other)
                        if d <= CORNER_M and (nearest is None or d < nearest[0]):
                            nearest = (d, g)
            if nearest is not None:
                parent[root(f)] = root(nearest[1])
    return [root(f) for f in range(len(streets))]


def partition_doors(
    positions: Sequence[tuple[float, float]],
    *,
    doors: int,
    units: Units | None = None,
) -> list[list[int]]:
    """Split points (x, y in metres) into groups of about `doors`; returns index lists.

    With `units` (see block_faces) whole blocks, block faces and buildings are cut, not
    points (see _partition_units). Pure and deterministic: no database. Groups
    come out in a map order (neighbouring groups tend to have neighbouring numbers).
    """
    n = len(positions)
    if n == 0:
        return []
    if units is not None:
        return _partition_units(positions, doors=doors, units=units)
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


class _Unit(NamedTuple):
    """Doors cut as one: a block, or a face or building of one that had to be broken up."""

    doors: list[int]
    x: float  # the centroid
    y: float
    level: int  # 0 a block, 1 a block face, 2 a building, 3 one door


def _unit(indexes, positions, level):
    x = sum(positions[i][0] for i in indexes) / len(indexes)
    y = sum(positions[i][1] for i in indexes) / len(indexes)
    return _Unit(indexes, x, y, level)


def _partition_units(positions, *, doors, units):
    """Balanced bisection of whole blocks, each at its doors' centroid.

    Each cut goes between two blocks (by their centroids along the group's longer side, or
    the other side when only that one has a boundary in the band): preferably with both
    sides inside the band around the average that partition_doors keeps, else anywhere
    that keeps every turf within ±15% of `doors`. Only when no boundary of either side
    falls there is the block at the even split broken into its faces (a face into its
    buildings, a building into its doors) and the cut tried again: so a face is split only
    when the band leaves no other way, as when one face alone is more than a turf.
    """
    n = len(positions)
    k = turf_count(n, doors)
    low, high = size_band(n, k, doors)
    hard_low, hard_high = hard_band(n, k, doors)
    by_block: dict[int, list[int]] = {}
    for i in range(n):
        by_block.setdefault(units.blocks[i], []).append(i)
    levels = (units.faces, units.buildings)
    groups: list[list[int]] = []
    stack = [([_unit(indexes, positions, 0) for indexes in by_block.values()], k)]
    while stack:
        pieces, parts = stack.pop()
        if parts == 1:
            groups.append([i for piece in pieces for i in piece.doors])
            continue
        left_parts = parts // 2
        right_parts = parts - left_parts
        size = sum(len(u.doors) for u in pieces)
        q, r = divmod(size, parts)
        even = left_parts * q + min(left_parts, r)
        hard = (
            max(left_parts * hard_low, size - right_parts * hard_high),
            min(left_parts * hard_high, size - right_parts * hard_low),
        )
        if hard[0] > hard[1]:  # no count meets the band: the even split
            hard = (even, even)
        preferred = (
            max(left_parts * low, size - right_parts * high, hard[0]),
            min(left_parts * high, size - right_parts * low, hard[1]),
        )
        while True:
            along_x = sorted(pieces, key=lambda u: (u.x, u.y, u.doors[0]))
            along_y = sorted(pieces, key=lambda u: (u.y, u.x, u.doors[0]))
            axes = [(along_x, 1), (along_y, 2)]
            if along_y[-1].y - along_y[0].y > along_x[-1].x - along_x[0].x:
                axes.reverse()
            found = None
            for ordered, axis in axes:
                for window in (preferred, hard):
                    cut = _best_unit_cut(ordered, axis, window, even)
                    if cut is not None:
                        found = (ordered, cut)
                        break
                if found:
                    break
            if found:
                break
            pieces = _refine(axes[0][0], even, positions, levels)
        ordered, cut = found
        stack.append((ordered[cut:], right_parts))
        stack.append((ordered[:cut], left_parts))
    return _mend(groups, units, positions, hard_low, hard_high)


class _Turfs:
    """Doors on turfs while _mend moves them: who is where, each id's doors."""

    def __init__(self, groups, units, positions):
        self.on = [set(group) for group in groups]
        self.turf_of = [0] * len(positions)
        for t, group in enumerate(groups):
            for i in group:
                self.turf_of[i] = t
        self.members: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for i in range(len(positions)):
            self.members[0].setdefault(units.faces[i], []).append(i)
            self.members[1].setdefault(units.buildings[i], []).append(i)
        self.units = units
        self.positions = positions
        self.centres = [_centre(group, positions) for group in groups]

    def size(self, t):
        return len(self.on[t])

    def spread(self, level, unit):
        """{turf: the doors of face (level 0) or building (level 1) `unit` on it}."""
        where: dict[int, list[int]] = {}
        for i in self.members[level][unit]:
            where.setdefault(self.turf_of[i], []).append(i)
        return where

    def move(self, doors, to):
        for i in doors:
            self.on[self.turf_of[i]].discard(i)
            self.on[to].add(i)
            self.turf_of[i] = to

    def pieces(self, t, but_building, but_faces):
        """Whole block faces on turf t but `but_faces`, as (0, doors), and whole buildings
        on it but `but_building`, as (1, doors): each wholly on t."""
        faces = {self.units.faces[i] for i in self.on[t]} - but_faces
        buildings = {self.units.buildings[i] for i in self.on[t]} - {but_building}
        for level, ids in ((0, faces), (1, buildings)):
            for unit in sorted(ids):
                doors = self.members[level][unit]
                if all(self.turf_of[i] == t for i in doors):
                    yield level, doors


def _centre(doors, positions):
    return (
        sum(positions[i][0] for i in doors) / len(doors),
        sum(positions[i][1] for i in doors) / len(doors),
    )


def _near(point, centres, but, count=8):
    return sorted(
        (math.hypot(point[0] - c[0], point[1] - c[1]), t)
        for t, c in enumerate(centres)
        if t not in but
    )[:count]


def _swap(turfs, building, keep, give, low, high):
    """Mend `building`, split between two full turfs: its doors on `give` go to `keep`,
    and to make room a whole block face or building of `keep` goes to `give` or a turf
    nearby, or (`give` left short) one of a turf near `give` comes to it. Whether it
    could."""
    units, centres, size = turfs.units, turfs.centres, turfs.size
    moving = turfs.spread(1, building).get(give)
    if not moving or keep == give:
        return False
    m = len(moving)
    elsewhere = {units.faces[i] for i in turfs.on[give]}
    options = []  # ((rank…), doors, to)
    # A piece of `keep` goes to `give` (or, `give` keeping enough, to a turf nearby).
    around = []
    if size(give) - m >= low:
        around = [t for _, t in _near(centres[keep], centres, (keep, give))]
    for kind, doors in turfs.pieces(keep, building, elsewhere):
        if not low <= size(keep) + m - len(doors) <= high:
            continue
        point = _centre(doors, turfs.positions)
        for far, t in [(0, give)] + [(1, t) for t in around]:
            if low <= size(t) + len(doors) - (m if t == give else 0) <= high:
                d = math.hypot(point[0] - centres[t][0], point[1] - centres[t][1])
                options.append(((far, kind, d), doors, t))
    # Or `give`, left short, takes a piece of a turf near it.
    if size(keep) + m <= high:
        for d, t in _near(centres[give], centres, (keep, give)):
            for kind, doors in turfs.pieces(t, building, set()):
                after = size(give) - m + len(doors)
                if size(t) - len(doors) >= low and low <= after <= high:
                    options.append(((1, kind, d), doors, give))
    if not options:
        return False
    _, doors, to = min(options, key=lambda o: o[0])
    turfs.move(moving, keep)
    turfs.move(doors, to)
    return True


def _mend(groups, units, positions, low, high):
    """Put back together the buildings, then the block faces, that the cut split: all
    their doors go to the turf holding most of them that can take them with every turf
    staying within low..high doors; a building split between full turfs is mended by
    _swap."""
    turfs = _Turfs(groups, units, positions)
    for level in (1, 0):
        split = sorted(u for u, doors in turfs.members[level].items() if len(doors) > 1)
        for unit in split:
            on = turfs.spread(level, unit)
            if len(on) < 2:
                continue
            total = sum(len(doors) for doors in on.values())

            def fits(keep, on=on, total=total):
                return turfs.size(keep) + total - len(on[keep]) <= high and all(
                    turfs.size(g) - len(doors) >= low for g, doors in on.items() if g != keep
                )

            choices = [g for g in on if fits(g)]
            if choices:
                keep = max(choices, key=lambda g: (len(on[g]), -g))
                for g, doors in on.items():
                    if g != keep:
                        turfs.move(doors, keep)
            elif level == 1:
                keep = max(on, key=lambda g: (len(on[g]), -g))
                for give in sorted(on):
                    _swap(turfs, unit, keep, give, low, high)
    mended = [[] for _ in groups]
    for group in groups:
        for i in group:
            mended[turfs.turf_of[i]].append(i)
    return mended


def _best_unit_cut(ordered, axis, window, even):
    """The boundary between ordered[p - 1] and ordered[p] to cut at, or None: the left side
    must hold window[0]..window[1] doors. The widest gap between neighbouring units' centres
    wins (a street, a park), weighed down the further the cut strays from the even split."""
    first, last = window
    if first > last:
        return None
    reach = max(even - first, last - even, 1)
    best = None
    weight = 0
    for p in range(1, len(ordered)):
        weight += len(ordered[p - 1].doors)
        if weight < first:
            continue
        if weight > last:
            break
        gap = ordered[p][axis] - ordered[p - 1][axis]
        key = (gap * (1.0 - abs(weight - even) / reach), -abs(weight - even))
        if best is None or key > best[0]:
            best = (key, p)
    return None if best is None else best[1]


def _refine(ordered, even, positions, levels):
    """The pieces with the one nearest the `even`-th door (in `ordered`) broken up one
    level: a block into its faces, a face into its buildings, a building into its doors.
    Blocks go before faces and faces before buildings: a building is broken only when
    nothing bigger is left to break."""
    weight, p = 0, 0
    while p < len(ordered) - 1 and weight + len(ordered[p].doors) <= even:
        weight += len(ordered[p].doors)
        p += 1

    def pieces_of(piece):
        for level in range(piece.level, len(levels)):
            parts: dict[int, list[int]] = {}
            for i in piece.doors:
                parts.setdefault(levels[level][i], []).append(i)
            if len(parts) > 1:
                return [_unit(indexes, positions, level + 1) for indexes in parts.values()]
        return [_unit([i], positions, len(levels) + 1) for i in piece.doors]

    breakable = [q for q, piece in enumerate(ordered) if len(piece.doors) > 1]
    near = [q for q in breakable if abs(q - p) <= 2] or breakable
    best = min(near, key=lambda q: (ordered[q].level, abs(q - p)))
    broken = ordered[best]
    return [piece for piece in ordered if piece is not broken] + pieces_of(broken)


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
