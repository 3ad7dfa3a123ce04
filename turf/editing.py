"""Editing turf by hand on the map: a turf from the doors inside a drawn polygon, doors or
whole block faces moved between turfs, a turf split in two, turfs merged.

Every operation is one transaction under the campaign's lock (the one cutting takes), so
an edit and a cut never put a door on two turfs. Every turf it touches gets its walk order
worked out again (turf.cutting.walk_order). Visits are never touched: they stay with their
household, person and link, and a turf's progress counts the visits at the doors it holds
now (turf.views.turf_progress).

A turf someone has been handed (one with an assignment link, live or not, or not open) is
changed only with `confirm=True`: without it the operation raises NeedsConfirm, which says
which turfs and why, and writes nothing.
"""

import math
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from canvass.models import AuditEvent, Campaign
from turf.cutting import walk_order
from turf.cutting.common import DOOR_FIELDS, number_of, street_key
from turf.models import Assignment, Household, Turf, TurfStop

NAME_MAX = Turf._meta.get_field("name").max_length
# A hand-drawn outline has tens of corners; this many is far past any real one.
MAX_POLYGON_POINTS = 5000
# More doors than this in one edit is a re-cut, not an edit (the Cut turf page does that).
MAX_SELECTION = 20_000
# What walk order reads of a household.
WALK_FIELDS = (*DOOR_FIELDS, "campaign")
# House numbers per block: 100-199 is one block, its odd and even sides two block faces.
BLOCK_NUMBERS = 100


class NeedsConfirm(Exception):
    """The edit would change turfs already handed out; nothing was written."""

    def __init__(self, turfs):
        self.turfs = turfs
        names = ", ".join(f"“{t.name}”" for t in turfs)
        super().__init__(
            f"{names} {'is' if len(turfs) == 1 else 'are'} already handed out. The change "
            "reaches the volunteer's phone at its next sync; every visit already recorded "
            "stays. Confirm to go ahead."
        )


# --- Reading what was picked -------------------------------------------------


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"The outline's {what} must be numbers (got {value!r:.30}).")
    return float(value)


def polygon_parse(geojson):
    """The rings [(lng, lat), …] of a GeoJSON Polygon or MultiPolygon (or a Feature of one).

    Each ring needs at least three distinct corners; an open ring is closed. A
    ValidationError says what is wrong with anything else.
    """
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(
            "Draw an outline: the selection must be a GeoJSON Polygon "
            '({"type": "Polygon", "coordinates": [[[lng, lat], …]]}).'
        )
    coordinates = geojson.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise ValidationError("The outline has no coordinates.")
    polygons = [coordinates] if geojson["type"] == "Polygon" else coordinates
    rings, points = [], 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationError("Each polygon of the outline needs a list of rings.")
        for ring in polygon:
            if not isinstance(ring, list):
                raise ValidationError("Each ring of the outline must be a list of positions.")
            parsed = []
            for position in ring:
                if not isinstance(position, list | tuple) or len(position) < 2:
                    raise ValidationError("Each corner of the outline must be [lng, lat].")
                lng, lat = _number(position[0], "longitudes"), _number(position[1], "latitudes")
                if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                    raise ValidationError(
                        f"[{lng}, {lat}] is off the globe: corners are [longitude, latitude]."
                    )
                parsed.append((lng, lat))
            points += len(parsed)
            if points > MAX_POLYGON_POINTS:
                raise ValidationError(
                    f"The outline has more than {MAX_POLYGON_POINTS} corners; draw a simpler one."
                )
            if parsed and parsed[0] != parsed[-1]:
                parsed.append(parsed[0])
            if len(set(parsed)) < 3:
                raise ValidationError("An outline needs at least three corners.")
            rings.append(parsed)
    return rings


def _inside(lng, lat, rings):
    """Even-odd rule over every ring: holes and a MultiPolygon's parts come out right."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def face_of(household):
    """A household's block face: its street, hundred-block and side (odd or even).

    A door with no house number is a face of its own: nothing says where on the street it is.
    """
    number = number_of(household.house_number)
    if number is None:
        return (street_key(household.street), "door", household.pk)
    return (street_key(household.street), number // BLOCK_NUMBERS, number % 2)


def households_pick(*, campaign, polygon=None, household_ids=None, whole_faces=False):
    """The campaign's households an edit is about, by pk order.

    `polygon` (GeoJSON) picks the located households inside it; `household_ids` picks
    those (every one must be the campaign's); both together pick either. With
    `whole_faces` the pick grows to every household of the campaign on the block faces
    it touches. ValidationError when nothing, or something not the campaign's, is picked.
    """
    if polygon is None and household_ids is None:
        raise ValidationError("Draw an outline on the map or click the households to pick.")
    picked = {}
    if polygon is not None:
        rings = polygon_parse(polygon)
        lngs = [p[0] for ring in rings for p in ring]
        lats = [p[1] for ring in rings for p in ring]
        box = (
            Household.objects.filter(
                campaign=campaign,
                lng__gte=min(lngs),
                lng__lte=max(lngs),
                lat__gte=min(lats),
                lat__lte=max(lats),
            )
            .located()
            .only(*WALK_FIELDS)
        )
        for household in box.iterator():
            if _inside(household.lng, household.lat, rings):
                picked[household.pk] = household
    if household_ids is not None:
        if not isinstance(household_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in household_ids
        ):
            raise ValidationError("households must be a list of household numbers.")
        if len(household_ids) > MAX_SELECTION:
            raise ValidationError(f"Pick at most {MAX_SELECTION} households at once.")
        wanted = set(household_ids)
        found = {
            h.pk: h
            for h in Household.objects.filter(campaign=campaign, pk__in=wanted).only(*WALK_FIELDS)
        }
        if missing := len(wanted - set(found)):
            raise ValidationError(
                f"{missing} of the picked households are not in this campaign. Reload the map."
            )
        picked.update(found)
    if whole_faces and picked:
        faces = {face_of(h) for h in picked.values()}
        streets = {h.street for h in picked.values()}
        on_streets = Household.objects.filter(campaign=campaign, street__in=streets)
        for household in on_streets.only(*WALK_FIELDS):
            if face_of(household) in faces:
                picked[household.pk] = household
    if not picked:
        raise ValidationError(
            "No households are inside that outline. Draw around the dots of the doors you want "
            "(households not on the map yet cannot be picked by drawing)."
        )
    if len(picked) > MAX_SELECTION:
        raise ValidationError(
            f"That picks {len(picked)} households; an edit takes at most {MAX_SELECTION}. "
            "Draw a smaller outline, or cut turf on the Cut turf page."
        )
    return [picked[pk] for pk in sorted(picked)]


def selection_summary(*, campaign, households):
    """What a pick holds, for the map to show before anything changes: its doors, and per
    turf how many of them it would take and whether that turf is handed out."""
    pks = [h.pk for h in households]
    per_turf = defaultdict(int)
    for turf_id in TurfStop.objects.filter(household__in=pks).values_list("turf_id", flat=True):
        per_turf[turf_id] += 1
    turfs = _with_doors(Turf.objects.filter(campaign=campaign, pk__in=per_turf))
    handed_out = {t.pk for t in _handed_out(turfs)}
    return {
        "households": pks,
        "doors": len(pks),
        "on_no_turf": len(pks) - sum(per_turf.values()),
        "turfs": [
            {
                "id": t.pk,
                "name": t.name,
                "picked": per_turf[t.pk],
                "doors": t.doors,
                "handed_out": t.pk in handed_out,
            }
            for t in turfs
        ],
    }


# --- Shared steps ------------------------------------------------------------------


def _with_doors(turfs):
    return turfs.annotate(doors=Count("stops")).order_by("name")


def _handed_out(turfs):
    """Those of `turfs` that someone was handed: any assignment (its visits hang on it) or
    a status other than open."""
    turfs = list(turfs)
    linked = set(
        Assignment.objects.filter(turf__in=[t.pk for t in turfs]).values_list("turf_id", flat=True)
    )
    return [t for t in turfs if t.pk in linked or t.status != Turf.Status.OPEN]


def _check_confirm(turfs, confirm):
    if not confirm and (handed := _handed_out(turfs)):
        raise NeedsConfirm(handed)


def _lock(campaign):
    # The same row lock turf cutting takes: one cut or edit at a time per campaign.
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()


def _name_check(campaign, name, *, exclude=None):
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the turf a name.")
    if len(name) > NAME_MAX:
        raise ValidationError(f"A turf name can be at most {NAME_MAX} characters.")
    taken = Turf.objects.filter(campaign=campaign, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(f"A turf named “{name}” already exists in this campaign.")
    return name


def _free_name(campaign, base):
    """`base`, or `base (2)`, `base (3)`… whichever is not taken yet."""
    base = base[: NAME_MAX - 6]
    taken = set(
        Turf.objects.filter(campaign=campaign, name__startswith=base).values_list("name", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def _rewalk(turf_ids):
    """Write each turf's walk list again, in walk order, from the households it holds now."""
    turf_ids = sorted(set(turf_ids))
    pairs = list(TurfStop.objects.filter(turf_id__in=turf_ids).values_list("turf_id", "household"))
    # Only what walk order reads, and one campaign object for all: an edit of a few
    # thousand doors is otherwise mostly building full rows.
    households = Household.objects.filter(pk__in=[pk for _, pk in pairs]).only(*WALK_FIELDS)
    by_pk = {h.pk: h for h in households}
    campaigns = {}
    holding = defaultdict(list)
    for turf_id, pk in pairs:
        household = by_pk[pk]
        if household.campaign_id not in campaigns:
            campaigns[household.campaign_id] = Campaign.objects.get(pk=household.campaign_id)
        household.campaign = campaigns[household.campaign_id]
        holding[turf_id].append(household)
    TurfStop.objects.filter(turf_id__in=turf_ids).delete()
    TurfStop.objects.bulk_create(
        (
            TurfStop(turf_id=turf_id, household_id=household.pk, position=position)
            for turf_id in turf_ids
            for position, household in enumerate(walk_order(holding[turf_id]))
        ),
        batch_size=5000,
    )


def _emptied_delete(turf_ids):
    """Delete the given turfs left with no doors that nobody was ever handed; return the
    names of those deleted."""
    empty = Turf.objects.filter(pk__in=turf_ids, stops__isnull=True, assignments__isnull=True)
    names = list(empty.values_list("name", flat=True))
    empty.delete()
    return names


def _audit(campaign, actor, action, target, **detail):
    AuditEvent.objects.create(
        campaign=campaign, actor=actor, action=action, target=target, detail=detail
    )


def _sources(households):
    return set(
        TurfStop.objects.filter(household__in=[h.pk for h in households]).values_list(
            "turf_id", flat=True
        )
    )


def _put_on(turf, households):
    """Take `households` off whatever turf they are on and append them to `turf`'s walk list
    (_rewalk orders it afterwards)."""
    pks = [h.pk for h in households]
    TurfStop.objects.filter(household__in=pks).exclude(turf=turf).delete()
    on_turf = set(
        TurfStop.objects.filter(turf=turf, household__in=pks).values_list("household_id", flat=True)
    )
    start = (TurfStop.objects.filter(turf=turf).aggregate(top=Max("position"))["top"] or 0) + 1
    TurfStop.objects.bulk_create(
        TurfStop(turf=turf, household_id=pk, position=start + i)
        for i, pk in enumerate(pk for pk in pks if pk not in on_turf)
    )


# --- The edits -----------------------------------------------------------------------


def turf_create_drawn(*, campaign, name, households, confirm=False, edited_by=None):
    """A new open turf of `households` (from households_pick), taken off any turf they are on.

    Returns (turf, deleted): `deleted` names the never-assigned turfs it left empty (they go).
    """
    with transaction.atomic():
        _lock(campaign)
        name = _name_check(campaign, name)
        sources = _sources(households)
        _check_confirm(Turf.objects.filter(pk__in=sources), confirm)
        turf = Turf.objects.create(campaign=campaign, name=name, status=Turf.Status.OPEN)
        _put_on(turf, households)
        _rewalk([turf.pk, *sources])
        deleted = _emptied_delete(sources)
        _audit(
            campaign,
            edited_by,
            "turf.create_drawn",
            f"turf:{turf.pk}",
            households=len(households),
            from_turfs=sorted(sources),
            deleted=deleted,
        )
    return turf, deleted


def turf_households_move(*, campaign, households, to_turf, confirm=False, edited_by=None):
    """Move `households` onto `to_turf` (a turf of `campaign`) from whatever turf they are on.

    Returns the names of the never-assigned turfs it left empty (they are deleted).
    """
    with transaction.atomic():
        _lock(campaign)
        to_turf = Turf.objects.select_for_update().get(pk=to_turf.pk, campaign=campaign)
        sources = _sources(households) - {to_turf.pk}
        already = TurfStop.objects.filter(turf=to_turf, household__in=households).count()
        if already == len(households):
            raise ValidationError(f"Those households are all on “{to_turf.name}” already.")
        _check_confirm(Turf.objects.filter(pk__in=sources | {to_turf.pk}), confirm)
        _put_on(to_turf, households)
        _rewalk([to_turf.pk, *sources])
        deleted = _emptied_delete(sources)
        _audit(
            campaign,
            edited_by,
            "turf.move",
            f"turf:{to_turf.pk}",
            households=len(households),
            from_turfs=sorted(sources),
            deleted=deleted,
        )
    return deleted


def _split_point(ordered):
    """Where to cut a walk list in two: the block-face boundary nearest its middle (a face
    walked in one go stays whole), else the middle itself."""
    middle = len(ordered) / 2
    faces = [face_of(h) for h in ordered]
    boundaries = [i for i in range(1, len(ordered)) if faces[i] != faces[i - 1]]
    if not boundaries:
        return len(ordered) // 2
    return min(boundaries, key=lambda i: (abs(i - middle), i))


def turf_split(*, turf, name=None, households=None, confirm=False, edited_by=None):
    """Split `turf` in two; the new open turf is returned.

    With `households` (a pick, all on `turf`) those make the new turf; without, the walk
    list is cut at the block-face boundary nearest its middle and the second half goes.
    The new turf is named `name`, or “<turf> (2)”. The original keeps its links and visits.
    """
    campaign = turf.campaign
    with transaction.atomic():
        _lock(campaign)
        turf = Turf.objects.select_for_update().get(pk=turf.pk)
        stops = list(
            TurfStop.objects.filter(turf=turf).select_related("household").order_by("position")
        )
        if len(stops) < 2:
            raise ValidationError(f"“{turf.name}” has {len(stops)} door; nothing to split.")
        if households is None:
            ordered = [s.household for s in stops]
            moving = ordered[_split_point(ordered) :]
        else:
            on_turf = {s.household_id for s in stops}
            off = [h for h in households if h.pk not in on_turf]
            if off:
                raise ValidationError(
                    f"{len(off)} of the picked households are not on “{turf.name}” "
                    f"(e.g. {off[0].address_line}). Pick only doors of the turf to split off."
                )
            if len(households) == len(stops):
                raise ValidationError(
                    f"That picks every door of “{turf.name}”; leave some on it to split."
                )
            moving = households
        name = _name_check(campaign, name) if name else _free_name(campaign, turf.name)
        _check_confirm([turf], confirm)
        new = Turf.objects.create(campaign=campaign, name=name, status=Turf.Status.OPEN)
        _put_on(new, moving)
        _rewalk([turf.pk, new.pk])
        _audit(
            campaign,
            edited_by,
            "turf.split",
            f"turf:{turf.pk}",
            new_turf=new.pk,
            households=len(moving),
        )
    return new


def turf_merge(*, campaign, turfs, name=None, confirm=False, edited_by=None):
    """Merge `turfs` (two or more of `campaign`) into the first; the others are deleted.

    Their links move with their doors: an assignment of a merged turf now opens the merged
    walk list, and every visit recorded through it still counts. The merged turf is
    assigned if any link is live, done if all were done, else open; renamed to `name` if
    given. Returns the merged turf.
    """
    ids = []
    for turf in turfs:
        if turf.pk not in ids:
            ids.append(turf.pk)
    if len(ids) < 2:
        raise ValidationError("Pick at least two turfs to merge.")
    with transaction.atomic():
        _lock(campaign)
        found = {t.pk: t for t in Turf.objects.select_for_update().filter(pk__in=ids)}
        if len(found) != len(ids) or any(t.campaign_id != campaign.pk for t in found.values()):
            raise ValidationError("Some of those turfs are not in this campaign. Reload the map.")
        keep, others = found[ids[0]], [found[i] for i in ids[1:]]
        if name:
            keep.name = _name_check(campaign, name, exclude=keep)
        _check_confirm([keep, *others], confirm)
        other_ids = [t.pk for t in others]
        moved_links = Assignment.objects.filter(turf_id__in=other_ids).update(turf=keep)
        doors = [
            s.household
            for s in TurfStop.objects.filter(turf_id__in=other_ids).select_related("household")
        ]
        _put_on(keep, doors)
        if Assignment.objects.filter(turf=keep).live().exists():
            keep.status = Turf.Status.ASSIGNED
        elif all(t.status == Turf.Status.DONE for t in found.values()):
            keep.status = Turf.Status.DONE
        else:
            keep.status = Turf.Status.OPEN
        keep.save(update_fields=["name", "status"])
        Turf.objects.filter(pk__in=other_ids).delete()
        _rewalk([keep.pk])
        _audit(
            campaign,
            edited_by,
            "turf.merge",
            f"turf:{keep.pk}",
            merged=[t.name for t in others],
            links_moved=moved_links,
        )
    return keep


def turfs_with_doors(campaign, turf_ids=None):
    """[{id, name, status, doors}] for the map's turf list, after an edit or at load."""
    turfs = Turf.objects.filter(campaign=campaign)
    if turf_ids is not None:
        turfs = turfs.filter(pk__in=turf_ids)
    return [
        {
            "id": t.pk,
            "name": t.name,
            "status": t.status,
            "status_label": str(Turf.Status(t.status).label),
            "doors": t.doors,
        }
        for t in _with_doors(turfs)
    ]
