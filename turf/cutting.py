"""Turf cutting: split a campaign's households into walkable turfs, and order each walk list.

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

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from canvass.models import Campaign
from turf.models import Household, Turf, TurfStop

# Every turf is within ±15% of the target size (when any split of the doors allows it).
TOLERANCE_PERCENT = 15
# Inside that, the cutter aims for ±8% of the average so turfs come out evenly sized, using
# the slack only to cut along gaps between blocks.
PREFERRED_TOLERANCE = 0.08
# Two buildings of one street further apart than this are walked as separate stretches.
STRETCH_GAP_M = 250
# Spacing used to lay out doors that have no coordinates at all, in street order.
UNMAPPED_SPACING_M = 10
NAME_MAX = Turf._meta.get_field("name").max_length
STOP_BATCH = 5000

_DIGITS = re.compile(r"\d+")
_DIGIT_RUNS = re.compile(r"(\d+)")
_PUNCTUATION = re.compile(r"[.,]")

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LNG = 111_320.0


class Door(NamedTuple):
    """The parts of a household that cutting and walk order look at."""

    pk: int
    house_number: str
    street: str
    unit: str
    lat: float | None
    lng: float | None


DOOR_FIELDS = ("pk", "house_number", "street", "unit", "lat", "lng")


# --- Sizes ------------------------------------------------------------------


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


def _size_band(households: int, turfs: int, doors: int) -> tuple[int, int]:
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


# --- Positions on the map ---------------------------------------------------


# House numbers, street names and units repeat a great deal in a voter file: cache their keys.
@functools.lru_cache(maxsize=1 << 16)
def _number(house_number: str) -> int | None:
    match = _DIGITS.search(house_number or "")
    return int(match.group()) if match else None


@functools.lru_cache(maxsize=1 << 16)
def _street_key(street: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", street or "").lower().split())


@functools.lru_cache(maxsize=1 << 16)
def _natural_key(text: str) -> tuple:
    """'Apt 2' before 'Apt 10'; letters compare without case."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGIT_RUNS.split((text or "").strip().lower())
        if part
    )


def _positions(doors: Sequence[Door]) -> list[tuple[float, float]]:
    """Each door's (x, y) in metres on a local flat map.

    A door without coordinates takes those of the nearest-numbered mapped door on its street;
    doors on streets with no mapped door at all are laid out in a row beside the map in street
    and number order, so they are still cut and walked by street.
    """
    mapped = [d for d in doors if d.lat is not None and d.lng is not None]
    lat0 = sum(d.lat for d in mapped) / len(mapped) if mapped else 0.0
    x_scale = M_PER_DEG_LNG * math.cos(math.radians(lat0))
    positions: list[tuple[float, float] | None] = [
        (d.lng * x_scale, d.lat * M_PER_DEG_LAT)
        if d.lat is not None and d.lng is not None
        else None
        for d in doors
    ]
    if len(mapped) == len(doors):
        return positions

    by_street = defaultdict(list)
    for door, position in zip(doors, positions, strict=True):
        if position is not None:
            by_street[_street_key(door.street)].append((_number(door.house_number) or 0, position))
    unplaced = []
    for i, door in enumerate(doors):
        if positions[i] is not None:
            continue
        known = by_street.get(_street_key(door.street))
        if known:
            number = _number(door.house_number) or 0
            positions[i] = min(known, key=lambda item: abs(item[0] - number))[1]
        else:
            unplaced.append(i)
    if unplaced:
        placed = [p for p in positions if p is not None]
        x0 = max((p[0] for p in placed), default=0.0) + 10 * STRETCH_GAP_M
        y0 = min((p[1] for p in placed), default=0.0)
        unplaced.sort(key=lambda i: _walk_sort_key(doors[i]))
        # One spot per building: its units share it, as they would on the map.
        rank, building = -1, None
        for i in unplaced:
            key = (_street_key(doors[i].street), (doors[i].house_number or "").strip().lower())
            if key != building:
                rank, building = rank + 1, key
            positions[i] = (x0 + rank * UNMAPPED_SPACING_M, y0)
    return positions


def _walk_sort_key(door: Door):
    number = _number(door.house_number)
    return (
        _street_key(door.street),
        number is None,
        number or 0,
        _natural_key(door.house_number),
        _natural_key(door.unit),
    )


# --- Cutting ----------------------------------------------------------------


def partition_doors(positions: Sequence[tuple[float, float]], *, doors: int) -> list[list[int]]:
    """Split points (x, y in metres) into groups of about `doors`; returns index lists.

    Pure and deterministic: no database. Groups come out in a map order (neighbouring
    groups tend to have neighbouring numbers).
    """
    n = len(positions)
    if n == 0:
        return []
    k = turf_count(n, doors)
    low, high = _size_band(n, k, doors)
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


# --- Walk order -------------------------------------------------------------


class _Stretch(NamedTuple):
    street: str
    walks: list[tuple[list[int], tuple[float, float], tuple[float, float]]]
    first_number: int


def _walk_indexes(
    doors: Sequence[Door],
    positions: Sequence[tuple[float, float]],
    *,
    both_sides: bool,
    narrow: set[str],
) -> list[int]:
    """Indexes of `doors` in walking order (see walk_order)."""
    streets = defaultdict(lambda: defaultdict(list))
    for i, door in enumerate(doors):
        streets[_street_key(door.street)][(door.house_number or "").strip().lower()].append(i)

    stretches = []
    for street, buildings in streets.items():
        zigzag = both_sides or street in narrow
        ordered = [
            sorted(units, key=lambda i: (_natural_key(doors[i].unit), doors[i].pk or 0))
            for units in buildings.values()
        ]
        ordered.sort(key=lambda units: _walk_sort_key(doors[units[0]]))
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
    numbers = [_number(doors[b[0]].house_number) for b in buildings]
    if zigzag:
        forward = list(buildings)
        backward = forward[::-1]
    else:
        odd = [b for b, n in zip(buildings, numbers, strict=True) if n is not None and n % 2]
        even = [b for b, n in zip(buildings, numbers, strict=True) if n is not None and not n % 2]
        unnumbered = [b for b, n in zip(buildings, numbers, strict=True) if n is None]
        # Up the odd side and back down the even side, or the same walked from the far end.
        forward = odd + even[::-1] + unnumbered
        backward = odd[::-1] + even + unnumbered
    walks = []
    for sequence in (forward, backward):
        flat = [i for building in sequence for i in building]
        walks.append((flat, positions[flat[0]], positions[flat[-1]]))
    first = next((n for n in numbers if n is not None), 0)
    return _Stretch(street, walks, first)


def _door(household) -> Door:
    return Door(*(getattr(household, field) for field in DOOR_FIELDS))


def walk_order(households: Iterable[Household], *, both_sides: bool = False) -> list[Household]:
    """The households in the order a canvasser walks them.

    Along each street, up the odd side by house number and back down the even side; with
    `both_sides` (or the campaign's `walk_both_sides`, or for a street listed in its
    `narrow_streets`) both sides together, zig-zagging by number. A building's apartments
    come together, units in natural order (2 before 10). The walk starts at the turf's
    south-west corner and goes on to whichever street starts nearest to where the last one
    ended. Households without coordinates fall back to street-and-number order.
    """
    households = list(households)
    if not households:
        return []
    campaign = households[0].campaign
    doors = [_door(h) for h in households]
    order = _walk_indexes(
        doors,
        _positions(doors),
        both_sides=both_sides or campaign.walk_both_sides,
        narrow={_street_key(s) for s in campaign.narrow_streets or []},
    )
    return [households[i] for i in order]


# --- Writes -----------------------------------------------------------------


def _lock_campaign(campaign):
    # One cut or manual turf at a time per campaign: two at once could put a door on two turfs.
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()


def _turf_names(campaign, prefix, count):
    taken = set(
        Turf.objects.filter(campaign=campaign, name__startswith=f"{prefix} ").values_list(
            "name", flat=True
        )
    )
    pattern = re.compile(rf"^{re.escape(prefix)} (\d+)$")
    numbers = [int(m.group(1)) for name in taken if (m := pattern.match(name))]
    start = max(numbers, default=0) + 1
    return [f"{prefix} {n:03d}" for n in range(start, start + count)]


def _stops_write(turfs_and_orders):
    """Write each (turf, household pks in walk order) as TurfStops at positions 0..n-1.

    `turfs_and_orders` may be a generator: on PostgreSQL each turf's rows are streamed into
    one COPY as soon as they are ready, so the database inserts while the next walk order is
    worked out.
    """
    if connection.vendor == "postgresql":
        # COPY skips building 100,000 model instances: most of a big cut's time otherwise.
        table = connection.ops.quote_name(TurfStop._meta.db_table)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(
                f"COPY {table} (turf_id, household_id, position) FROM STDIN"
            ) as copy:
                for turf, pks in turfs_and_orders:
                    copy.write("".join(f"{turf.pk}\t{pk}\t{i}\n" for i, pk in enumerate(pks)))
        return
    TurfStop.objects.bulk_create(
        (
            TurfStop(turf_id=turf.pk, household_id=pk, position=i)
            for turf, pks in turfs_and_orders
            for i, pk in enumerate(pks)
        ),
        batch_size=STOP_BATCH,
    )


def _addresses(households, limit=3):
    shown = ", ".join(h.address_line for h in households[:limit])
    more = len(households) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _open_turfs_delete(campaign, scope):
    """Delete the campaign's open, never-assigned turfs that lie wholly inside `scope`."""
    in_scope = TurfStop.objects.filter(turf=OuterRef("pk"), household__in=scope)
    outside = TurfStop.objects.filter(turf=OuterRef("pk")).exclude(household__in=scope)
    doomed = Turf.objects.filter(
        campaign=campaign, status=Turf.Status.OPEN, assignments__isnull=True
    ).filter(Exists(in_scope), ~Exists(outside))
    return doomed.delete()


def turf_cut(
    *,
    campaign: Campaign,
    doors: int,
    precinct: str | None = None,
    households: QuerySet | Iterable[Household] | None = None,
    name_prefix: str = "Turf",
    replace_open: bool = False,
) -> list[Turf]:
    """Cut the campaign's households that are on no turf into turfs of about `doors` doors.

    Only one precinct's households with `precinct`, only those of `households` when given.
    Every turf is within ±15% of `doors` whenever the count allows it; with fewer households
    than 85% of `doors` they make one turf. With `replace_open`, the campaign's open turfs
    that were never assigned and lie wholly inside what is being cut are deleted first and
    their doors cut again. Turfs are named "<prefix> 001", "<prefix> 002"… after any
    existing ones. All or nothing: one transaction.
    """
    if isinstance(doors, bool) or not isinstance(doors, int) or doors < 1:
        raise ValidationError(
            "Doors per turf must be a whole number of at least 1 (got %(doors)r).",
            params={"doors": doors},
        )
    name_prefix = (name_prefix or "").strip()
    if not name_prefix or len(name_prefix) > NAME_MAX - 8:
        raise ValidationError(
            f"Give turf names a prefix of 1 to {NAME_MAX - 8} characters, e.g. “Turf”."
        )

    with transaction.atomic():
        _lock_campaign(campaign)
        scope = Household.objects.filter(campaign=campaign)
        where = f"campaign “{campaign}”"
        if households is not None:
            if isinstance(households, QuerySet) and households.query.is_sliced:
                households = list(households)  # a slice cannot be filtered further
            if isinstance(households, QuerySet):
                if households.exclude(campaign=campaign).exists():
                    raise ValidationError(
                        f"Some of the given households belong to another campaign than {where}."
                    )
                scope = scope.filter(pk__in=households.values("pk"))
            else:
                picked = list(households)
                if any(h.campaign_id != campaign.pk for h in picked):
                    raise ValidationError(
                        f"Some of the given households belong to another campaign than {where}."
                    )
                scope = scope.filter(pk__in=[h.pk for h in picked])
            where = f"the given households of {where}"
        if precinct is not None:
            precinct = str(precinct).strip()
            if not Household.objects.filter(campaign=campaign, precinct=precinct).exists():
                known = sorted(
                    set(
                        Household.objects.filter(campaign=campaign)
                        .exclude(precinct="")
                        .values_list("precinct", flat=True)[:1000]
                    )
                )
                hint = f" Known precincts: {', '.join(known[:20])}." if known else ""
                raise ValidationError(
                    f"No households in precinct “{precinct}” of campaign “{campaign}”.{hint}"
                )
            scope = scope.filter(precinct=precinct)
            where = f"precinct “{precinct}” of {where}"

        if replace_open:
            _open_turfs_delete(campaign, scope)
        free = scope.exclude(Exists(TurfStop.objects.filter(household=OuterRef("pk"))))
        rows = [Door(*row) for row in free.order_by("pk").values_list(*DOOR_FIELDS)]
        if not rows:
            total = scope.count()
            if not total and households is not None and precinct is None:
                raise ValidationError("No households were given to cut.")
            if not total:
                raise ValidationError(
                    f"There are no households in {where} to cut. Import a voter file first."
                )
            if replace_open:
                raise ValidationError(
                    f"All {total} households in {where} are on turfs that are assigned or "
                    "reach beyond it; only open turfs wholly inside what is cut are cut again. "
                    "Cut a wider area, or delete those turfs first."
                )
            raise ValidationError(
                f"All {total} households in {where} are already on turfs. Use “replace open "
                f"turfs” (--replace) to cut open turfs again, or delete turfs first."
            )

        positions = _positions(rows)
        groups = partition_doors(positions, doors=doors)
        narrow = {_street_key(s) for s in campaign.narrow_streets or []}
        names = _turf_names(campaign, name_prefix, len(groups))
        turfs = Turf.objects.bulk_create(
            [Turf(campaign=campaign, name=name, status=Turf.Status.OPEN) for name in names]
        )

        def walk_lists():
            for turf, group in zip(turfs, groups, strict=True):
                walk = _walk_indexes(
                    [rows[i] for i in group],
                    [positions[i] for i in group],
                    both_sides=campaign.walk_both_sides,
                    narrow=narrow,
                )
                yield turf, [rows[group[j]].pk for j in walk]

        _stops_write(walk_lists())
    return turfs


def turf_create_manual(
    *, campaign: Campaign, name: str, households: QuerySet | Iterable[Household]
) -> Turf:
    """A turf of hand-picked households (a street, a precinct, a filter), in walk order.

    Refuses households of another campaign and households already on a turf.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the turf a name.")
    if len(name) > NAME_MAX:
        raise ValidationError(f"A turf name can be at most {NAME_MAX} characters.")
    with transaction.atomic():
        _lock_campaign(campaign)
        picked = list({h.pk: h for h in households}.values())
        if not picked:
            raise ValidationError("Pick at least one household for the turf.")
        foreign = [h for h in picked if h.campaign_id != campaign.pk]
        if foreign:
            raise ValidationError(
                f"{len(foreign)} of the picked households belong to another campaign "
                f"({_addresses(foreign)}). Pick households of “{campaign}” only."
            )
        taken = list(
            TurfStop.objects.filter(household__in=[h.pk for h in picked])
            .select_related("turf", "household")
            .order_by("turf__name", "position")
        )
        if taken:
            shown = ", ".join(f"{s.household.address_line} ({s.turf.name})" for s in taken[:3])
            more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
            raise ValidationError(
                f"{len(taken)} of the picked households are already on a turf: {shown}{more}. "
                "Leave them out, or take them off that turf first."
            )
        if Turf.objects.filter(campaign=campaign, name=name).exists():
            raise ValidationError(
                f"A turf named “{name}” already exists in this campaign. Choose another name."
            )
        for household in picked:
            household.campaign = campaign
        ordered = walk_order(picked)
        turf = Turf.objects.create(campaign=campaign, name=name, status=Turf.Status.OPEN)
        _stops_write([(turf, [h.pk for h in ordered])])
    return turf
