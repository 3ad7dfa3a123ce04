"""Turf cutting's writes: cut a campaign into turfs, make one by hand, put doors in walk order.

Located doors are cut by the map (turf.cutting.bymap); doors the geocoder has not placed
are cut by street and house number (turf.cutting.bystreet). The two never share a turf:
every cut turf is either all on the map or all by street, and says which.
"""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from canvass.models import Campaign
from turf.cutting.bymap import block_faces, map_walk, partition_doors
from turf.cutting.bystreet import Meetings, street_cut, street_meetings, street_walk
from turf.cutting.common import (
    DOOR_FIELDS,
    M_PER_DEG_LAT,
    Door,
    street_key,
    to_metres,
    x_scale,
)
from turf.models import Household, Turf, TurfStop

NAME_MAX = Turf._meta.get_field("name").max_length
STOP_BATCH = 5000
# How a cut turf was laid out (set on the Turf objects turf_cut returns).
BY_MAP, BY_STREET = "map", "street"


def _door(household) -> Door:
    return Door(*(getattr(household, field) for field in DOOR_FIELDS))


def _narrow(campaign):
    return {street_key(s) for s in campaign.narrow_streets or []}


def meetings_for(campaign: Campaign, streets: Iterable[str]) -> Meetings:
    """Where the given streets meet, from the campaign's located doors on them."""
    names = sorted(set(streets))
    if not names:
        return {}
    rows = list(
        Household.objects.filter(campaign=campaign, street__in=names)
        .located()
        .values_list("street", "house_number", "lat", "lng")
    )
    if not rows:
        return {}
    scale = x_scale(sum(r[2] for r in rows) / len(rows))
    return street_meetings(
        (street, number, lng * scale, lat * M_PER_DEG_LAT) for street, number, lat, lng in rows
    )


def _walk(campaign, doors, *, both_sides, narrow, meetings=None):
    """Indexes of `doors` in walk order: the located ones by the map, then the rest by street."""
    located = [i for i, d in enumerate(doors) if d.located]
    unlocated = [i for i, d in enumerate(doors) if not d.located]
    order = []
    if located:
        picked = [doors[i] for i in located]
        walk = map_walk(picked, to_metres(picked), both_sides=both_sides, narrow=narrow)
        order.extend(located[j] for j in walk)
    if unlocated:
        picked = [doors[i] for i in unlocated]
        if meetings is None:
            meetings = meetings_for(campaign, {d.street for d in picked})
        walk = street_walk(picked, both_sides=both_sides, narrow=narrow, meetings=meetings)
        order.extend(unlocated[j] for j in walk)
    return order


def walk_order(households: Iterable[Household], *, both_sides: bool = False) -> list[Household]:
    """The households in the order a canvasser walks them.

    Along each street, up the odd side by house number and back down the even side; with
    `both_sides` (or the campaign's `walk_both_sides`, or for a street listed in its
    `narrow_streets`) both sides together, zig-zagging by number. A building's apartments
    come together, units in natural order (2 before 10). Located households start at the
    turf's south-west corner and go on to whichever street starts nearest to where the last
    one ended. Households without coordinates come after them, never in between, walked by
    street and number, street after street by name or where the streets are known to meet
    (see turf.cutting.bystreet).
    """
    households = list(households)
    if not households:
        return []
    campaign = households[0].campaign
    doors = [_door(h) for h in households]
    order = _walk(
        campaign,
        doors,
        both_sides=both_sides or campaign.walk_both_sides,
        narrow=_narrow(campaign),
    )
    return [households[i] for i in order]


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
    Located households are cut by the map, by whole blocks, block faces and buildings
    (turf.cutting.bymap), and the others by street and house number, never on one turf
    together; each returned turf's `cut_by` says which (BY_MAP, BY_STREET), map
    turfs first. In each kind every turf is within ±15% of `doors` whenever the count
    allows it; with fewer households of a kind than 85% of `doors` they make one turf. With
    `replace_open`, the campaign's open turfs that were never assigned and lie wholly inside
    what is being cut are deleted first and their doors cut again. Turfs are named
    "<prefix> 001", "<prefix> 002"… after any existing ones. All or nothing: one transaction.
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

        both_sides, narrow = campaign.walk_both_sides, _narrow(campaign)
        located = [d for d in rows if d.located]
        unlocated = [d for d in rows if not d.located]
        # (kind, doors, groups of indexes into doors, positions or None)
        parts = []
        if located:
            positions = to_metres(located)
            units = block_faces(located, positions, both_sides=both_sides, narrow=narrow)
            groups = partition_doors(positions, doors=doors, units=units)
            parts.append((BY_MAP, located, groups, positions))
        if unlocated:
            meetings = meetings_for(campaign, {d.street for d in unlocated})
            groups = street_cut(
                unlocated,
                doors_per_turf=doors,
                both_sides=both_sides,
                narrow=narrow,
                meetings=meetings,
            )
            parts.append((BY_STREET, unlocated, groups, meetings))
        count = sum(len(groups) for _, _, groups, _ in parts)
        names = iter(_turf_names(campaign, name_prefix, count))
        turfs = Turf.objects.bulk_create(
            [
                Turf(campaign=campaign, name=next(names), status=Turf.Status.OPEN)
                for _, _, groups, _ in parts
                for _ in groups
            ]
        )
        kinds = [kind for kind, _, groups, _ in parts for _ in groups]
        for turf, kind in zip(turfs, kinds, strict=True):
            turf.cut_by = kind

        def walk_lists():
            made = iter(turfs)
            for kind, picked, groups, extra in parts:
                for group in groups:
                    members = [picked[i] for i in group]
                    if kind == BY_MAP:
                        walk = map_walk(
                            members,
                            [extra[i] for i in group],
                            both_sides=both_sides,
                            narrow=narrow,
                        )
                    else:
                        walk = street_walk(
                            members, both_sides=both_sides, narrow=narrow, meetings=extra
                        )
                    yield next(made), [members[j].pk for j in walk]

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
