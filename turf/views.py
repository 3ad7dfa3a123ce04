"""Organizer pages for turf: the turf list and its live progress, cutting, the map,
assigning turf to volunteers, and the printable walk sheet.

Field leads may look (lists, map, walk sheets); only organizers cut and assign.
"""

import re

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Floor
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import Volunteer
from conversations.models import Visit
from turf.editing import turfs_with_doors
from turf.models import Assignment, Household, Person, Turf, TurfStop
from turf.services import (
    turf_status_set,
)

TURFS_PER_PAGE = 100
# A browser draws this many circle markers on a canvas comfortably; past it the
# organizer narrows the map to a precinct or a turf.
MAP_HOUSEHOLD_LIMIT = 20_000
OUTCOMES = Visit.Outcome


# A record number as the URL may carry it: ASCII digits only ("²".isdigit() is true),
# short enough for a bigint.
_ID = re.compile(r"[0-9]{1,18}")


def _id_param(params, name):
    """The record number in `params[name]`, None when absent; ValidationError when it is not one."""
    value = params.get(name, "").strip()
    if not value:
        return None
    if not _ID.fullmatch(value):
        raise ValidationError(f"{name} must be a turf number (digits only), not “{value[:20]}”.")
    return int(value)


def _text_param(params, name, model, field):
    """The text filter in `params[name]`, or "" — refused when no value of `field` could match."""
    value = params.get(name, "").strip()
    limit = model._meta.get_field(field).max_length
    if "\x00" in value or len(value) > limit:
        raise ValidationError(
            f"{name} must be at most {limit} characters of text, with no NUL characters."
        )
    return value


# --- Reads ------------------------------------------------------------------


def turf_progress(turf_ids):
    """{turf_id: {"knocked": doors with a visit, "conversations": n}} for `turf_ids`.

    Counted at the doors the turf holds now, through any walk-list link, revoked ones
    included: a reassignment mid-shift loses none of the doors already knocked, and a door
    moved to another turf by hand (turf.editing) takes its visits along. Conversations
    away from the walk list (no door) count for the turf whose link recorded them.
    """
    turf_ids = [int(pk) for pk in turf_ids]
    if not turf_ids:
        return {}
    # Visits joined to the walk lists by household id directly: the ORM would go through
    # the household table, a lookup per visit that costs as much as the rest together.
    quote = connection.ops.quote_name
    visit, stop = quote(Visit._meta.db_table), quote(TurfStop._meta.db_table)
    marks = ", ".join(["%s"] * len(turf_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.turf_id, COUNT(DISTINCT v.household_id), "
            f"SUM(CASE WHEN v.outcome = %s THEN 1 ELSE 0 END) "
            f"FROM {visit} v JOIN {stop} s ON s.household_id = v.household_id "
            f"WHERE v.assignment_id IS NOT NULL AND s.turf_id IN ({marks}) "
            f"GROUP BY s.turf_id",
            [OUTCOMES.CONVERSATION, *turf_ids],
        )
        progress = {
            turf_id: {"knocked": knocked, "conversations": int(conversations or 0)}
            for turf_id, knocked, conversations in cursor.fetchall()
        }
    away = (
        Visit.objects.filter(
            household__isnull=True,
            assignment__turf_id__in=turf_ids,
            outcome=OUTCOMES.CONVERSATION,
        )
        .values("assignment__turf_id")
        .annotate(n=Count("pk"))
    )
    for row in away:
        counts = progress.setdefault(row["assignment__turf_id"], {"knocked": 0, "conversations": 0})
        counts["conversations"] += row["n"]
    return progress


def _with_assignments():
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.select_related("shift__campaign")
        .prefetch_related("volunteers")
        .order_by("-created_at"),
        to_attr="all_assignments",
    )


def _who_walks(turf):
    """Sets `live_assignments` on `turf` and, when it has none, `last_assignment`: a turf
    whose link expired still says who had it, so the organizer knows whom to ask."""
    turf.live_assignments = [a for a in turf.all_assignments if a.is_live][::-1]
    turf.last_assignment = (
        turf.all_assignments[0] if turf.all_assignments and not turf.live_assignments else None
    )


class TurfFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", help_text="Turf name or street")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Turf.Status.choices])
    assignee = forms.ModelChoiceField(
        required=False, queryset=Volunteer.objects.none(), empty_label="Anyone"
    )
    precinct = forms.ChoiceField(required=False)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = Volunteer.objects.filter(campaign=campaign)
        self.fields["precinct"].choices = [("", "Any precinct")] + [
            (p, p) for p in _precincts(campaign)
        ]

    def apply(self, turfs):
        """Narrow `turfs`; filters on related rows go through subqueries so that
        the door count annotated on each turf is not multiplied by the joins."""
        data = self.cleaned_data
        if data.get("status"):
            turfs = turfs.filter(status=data["status"])
        if data.get("assignee"):
            live = Assignment.objects.live().filter(volunteers=data["assignee"])
            turfs = turfs.filter(pk__in=live.values("turf_id"))
        if data.get("precinct"):
            stops = TurfStop.objects.filter(household__precinct=data["precinct"])
            turfs = turfs.filter(pk__in=stops.values("turf_id"))
        if query := data.get("q", "").strip():
            on_street = TurfStop.objects.filter(household__street__icontains=query)
            turfs = turfs.filter(Q(name__icontains=query) | Q(pk__in=on_street.values("turf_id")))
        return turfs


def _precincts(campaign):
    return list(
        Household.objects.filter(campaign=campaign)
        .exclude(precinct="")
        .values_list("precinct", flat=True)
        .distinct()
        .order_by("precinct")
    )


def _turf_for(campaign, turf_id):
    return get_object_or_404(Turf, pk=turf_id, campaign=campaign)


def _assignment_for(campaign, pk):
    return get_object_or_404(
        Assignment.objects.select_related("turf", "shift__campaign"),
        pk=pk,
        turf__campaign=campaign,
    )


def _is_organizer(user, campaign):
    return user.memberships.filter(campaign=campaign, role__in=ORGANIZERS).exists()


# --- Turf list and progress -------------------------------------------------


@login_required
@require_GET
def turf_list(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    form = TurfFilterForm(request.GET or None, campaign=campaign)
    turfs = (
        Turf.objects.filter(campaign=campaign)
        .annotate(
            doors=Count("stops"),
            # Doors with no map location: a turf of only those is walked by street.
            unlocated=Count("stops", filter=Q(stops__household__lat__isnull=True)),
        )
        .prefetch_related(_with_assignments())
        .order_by("name")
    )
    if form.is_valid():
        turfs = form.apply(turfs)
    page = Paginator(turfs, TURFS_PER_PAGE).get_page(request.GET.get("page"))
    progress = turf_progress([turf.pk for turf in page])
    for turf in page:
        _who_walks(turf)
        turf.progress = progress.get(turf.pk, {"knocked": 0, "conversations": 0})
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/turfs.html",
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_edit": _is_organizer(request.user, campaign),
            "section": "turfs",
        },
    )


@login_required
@require_GET
def turf_progress_json(request, slug):
    """Live progress for the dashboard to poll: every turf, or those in ?ids=1,2,3."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    turfs = Turf.objects.filter(campaign=campaign).annotate(doors=Count("stops"))
    if ids := request.GET.get("ids"):
        parts = [i.strip() for i in ids.split(",") if i.strip()]
        if len(parts) > TURFS_PER_PAGE or not all(_ID.fullmatch(i) for i in parts):
            return JsonResponse(
                {"error": f"ids must be up to {TURFS_PER_PAGE} turf numbers separated by commas."},
                status=400,
            )
        turfs = turfs.filter(pk__in=[int(i) for i in parts])
    rows = list(turfs.values("pk", "status", "doors"))
    progress = turf_progress([row["pk"] for row in rows])
    return JsonResponse(
        {
            "updated_at": timezone.now().isoformat(),
            "turfs": [
                {
                    "id": row["pk"],
                    "status": row["status"],
                    "status_label": Turf.Status(row["status"]).label,
                    "doors": row["doors"],
                    **progress.get(row["pk"], {"knocked": 0, "conversations": 0}),
                }
                for row in rows
            ],
        }
    )


@login_required
@require_GET
def turf_detail(request, slug, turf_id):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    turf = _turf_for(campaign, turf_id)
    stops = list(
        TurfStop.objects.filter(turf=turf).select_related("household").order_by("position")
    )
    # The latest outcome at each door, through any walk-list link (the one of the turf a
    # door was moved from, too).
    latest = dict(
        Visit.objects.filter(assignment__isnull=False, household__stops__turf=turf)
        .order_by("household_id", "happened_at")
        .values_list("household_id", "outcome")
    )
    for stop in stops:
        outcome = latest.get(stop.household_id)
        stop.last_outcome = OUTCOMES(outcome).label if outcome else ""
    assignments = (
        Assignment.objects.filter(turf=turf)
        .select_related("shift__campaign", "created_by")
        .prefetch_related("volunteers")
        .annotate(visit_count=Count("visits"))
        .order_by("-created_at")
    )
    progress = turf_progress([turf.pk]).get(turf.pk, {"knocked": 0, "conversations": 0})
    return render(
        request,
        "dashboard/turf_detail.html",
        {
            "campaign": campaign,
            "turf": turf,
            "stops": stops,
            "assignments": assignments,
            "progress": progress,
            "can_edit": _is_organizer(request.user, campaign),
            "section": "turfs",
        },
    )


@login_required
@require_POST
def turf_status(request, slug, turf_id):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    turf = _turf_for(campaign, turf_id)
    try:
        turf_status_set(turf=turf, status=request.POST.get("status", ""), changed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{turf.name}” is now {turf.get_status_display().lower()}.")
    return redirect("turf_detail", slug=campaign.slug, turf_id=turf.pk)


# --- Cutting ----------------------------------------------------------------


class AutoCutForm(forms.Form):
    doors = forms.IntegerField(
        min_value=5,
        max_value=2000,
        initial=250,
        label="Doors per turf",
        help_text="Turfs come out within ±15% of this.",
    )
    precinct = forms.ChoiceField(required=False, label="Precinct")
    name_prefix = forms.CharField(max_length=60, initial="Turf", label="Name turfs")
    replace_open = forms.BooleanField(
        required=False, label="Replace the open turfs (assigned and done turfs stay)"
    )
    # The universe: only the doors where an active voter matches every filter.
    party = forms.CharField(
        required=False,
        max_length=100,
        label="Party",
        help_text="As the voter file writes it, e.g. UNA; several separated by commas.",
    )
    age_min = forms.IntegerField(required=False, min_value=0, max_value=130, label="Age from")
    age_max = forms.IntegerField(required=False, min_value=0, max_value=130, label="Age to")
    gender = forms.CharField(required=False, max_length=20, label="Gender", help_text="e.g. F")
    voter_status = forms.CharField(
        required=False, max_length=20, label="Voter status", help_text="e.g. active"
    )
    where = forms.CharField(
        required=False,
        label="Other voter-file columns",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "cong_dist_abbrv=4"}),
        help_text="One per line: the column's name = its value (several values: A,B).",
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["precinct"].choices = [("", "All households")] + [
            (p, p) for p in _precincts(campaign)
        ]

    def clean(self):
        data = super().clean()
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", "The age range ends before it starts.")
        from turf.cutting.universe import parse_where

        try:
            data["where"] = parse_where((data.get("where") or "").splitlines())
        except ValidationError as error:
            self.add_error("where", error)
        return data

    def universe(self):
        from turf.cutting.universe import Universe

        data = self.cleaned_data
        return Universe(
            parties=[p.strip() for p in (data.get("party") or "").split(",") if p.strip()],
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            gender=(data.get("gender") or "").strip(),
            precinct=data.get("precinct") or "",
            voter_status=(data.get("voter_status") or "").strip(),
            where=data.get("where") or {},
        )


class ManualCutForm(forms.Form):
    name = forms.CharField(max_length=100, label="Turf name")
    street = forms.CharField(
        required=False,
        max_length=200,
        label="Street",
        widget=forms.TextInput(attrs={"list": "streets", "autocomplete": "off"}),
    )
    precinct = forms.ChoiceField(required=False, label="Precinct")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["precinct"].choices = [("", "Any precinct")] + [
            (p, p) for p in _precincts(campaign)
        ]

    def clean(self):
        data = super().clean()
        if not data.get("street", "").strip() and not data.get("precinct"):
            raise ValidationError("Pick a street, a precinct or both.")
        return data

    def households(self):
        data = self.cleaned_data
        households = Household.objects.filter(campaign=self.campaign)
        if street := data.get("street", "").strip():
            households = households.filter(street__iexact=street)
        if data.get("precinct"):
            households = households.filter(precinct=data["precinct"])
        # A household walks on one turf at a time, so those already on one stay there.
        return households.filter(stops__isnull=True)


def _plural(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _cut_message(turfs):
    """What a cut made, saying which turfs go by street because their doors are not located."""
    by_street = sum(1 for t in turfs if getattr(t, "cut_by", "") == "street")
    made = f"Cut {_plural(len(turfs), 'turf', 'turfs')}."
    if not by_street:
        return made
    if by_street == len(turfs):
        return (
            f"{made} None of these households is on the map yet, so every turf is cut and "
            "walked by street and house number."
        )
    return (
        f"{made} {_plural(len(turfs) - by_street, 'turf is', 'turfs are')} cut on the map; "
        f"{_plural(by_street, 'turf holds', 'turfs hold')} the households not on the map yet, "
        "cut and walked by street and house number (marked “by street” in the list)."
    )


@login_required
def turf_cut_view(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    mode = request.POST.get("mode") if request.method == "POST" else None
    counted = None
    auto = AutoCutForm(request.POST if mode == "auto" else None, campaign=campaign, prefix="auto")
    manual = ManualCutForm(
        request.POST if mode == "manual" else None, campaign=campaign, prefix="manual"
    )
    if mode in ("auto", "manual"):
        # Imported here so the page still loads while turf cutting is not installed.
        from turf import cutting
        from turf.cutting import universe

        form = auto if mode == "auto" else manual
        counting = mode == "auto" and request.POST.get("action") == "count"
        if counting:
            auto.fields["doors"].required = False  # counting needs no turf size
        if form.is_valid():
            try:
                if counting:
                    counted = universe.universe_doors(campaign, form.universe())
                    turfs = None
                elif mode == "auto":
                    data = form.cleaned_data
                    picked = form.universe()
                    households = None
                    if picked.people_filtered:
                        universe.universe_doors(campaign, picked)  # none: says why
                        households = universe.universe_households(campaign, picked)
                    turfs = cutting.turf_cut(
                        campaign=campaign,
                        doors=data["doors"],
                        precinct=data["precinct"] or None,
                        households=households,
                        name_prefix=data["name_prefix"],
                        replace_open=data["replace_open"],
                    )
                else:
                    turfs = [
                        cutting.turf_create_manual(
                            campaign=campaign,
                            name=form.cleaned_data["name"],
                            households=form.households(),
                        )
                    ]
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if turfs is not None:
                    messages.success(request, _cut_message(turfs))
                    return redirect(reverse("turf_list", args=[campaign.slug]) + "?status=open")
    streets = (
        Household.objects.filter(campaign=campaign)
        .values_list("street", flat=True)
        .distinct()
        .order_by("street")[:500]
    )
    return render(
        request,
        "dashboard/cut.html",
        {
            "campaign": campaign,
            "auto": auto,
            "manual": manual,
            "streets": streets,
            "uncut": Household.objects.filter(campaign=campaign, stops__isnull=True).count(),
            "counted": counted,
            "section": "cut",
            "can_edit": True,
        },
    )


# --- QR codes -----------------------------------------------------------------


def segno_svg(text):
    """The QR code for `text` as inline SVG markup, ready for a template.

    Marked safe because segno writes every tag itself and `text` only reaches the
    markup as black and white modules, never as characters.
    """
    # No fixed size: the SVG keeps only its viewBox, so CSS sizes it for the screen.
    svg = segno.make(text, error="m").svg_inline(
        omitsize=True, light="#fff", title="Assignment link"
    )
    return mark_safe(svg)


# --- Map ----------------------------------------------------------------------


# What the map's editing panel writes itself; everything else it shows comes from the server.
EDIT_STRINGS = {
    "none": _("No doors picked."),
    "picked": _("{doors} doors picked"),
    "from_turf": _("{picked} of the {doors} on “{name}”"),
    "handed_out": _("handed out"),
    "no_turf": _("{n} on no turf"),
    "split": _("Split in two"),
    "working": _("Working…"),
    "pick_first": _("Pick doors first: draw an outline or click doors."),
    "merge_into": _("Merge the ticked turfs into “{name}”"),
    "merge": _("Merge the ticked turfs"),
    "failed": _("The change could not be made: {error}"),
}


@login_required
@require_GET
def turf_map(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    can_edit = _is_organizer(request.user, campaign)
    return render(
        request,
        "dashboard/map.html",
        {
            "campaign": campaign,
            "precincts": _precincts(campaign),
            "turfs": Turf.objects.filter(campaign=campaign).order_by("name").only("pk", "name"),
            "tiles_url": settings.MAP_TILES_URL,
            "tiles_attribution": settings.MAP_TILES_ATTRIBUTION,
            "can_edit": can_edit,
            "edit_turfs": turfs_with_doors(campaign) if can_edit else [],
            "edit_strings": {key: str(value) for key, value in EDIT_STRINGS.items()},
            "section": "map",
        },
    )


def convex_hull(points):
    """The convex hull of (lng, lat) points, counter-clockwise, by Andrew's monotone chain."""
    points = sorted(set(points))
    if len(points) <= 2:
        return points

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _hull_geometry(points):
    hull = convex_hull(points)
    if len(hull) >= 3:
        return {"type": "Polygon", "coordinates": [[list(p) for p in [*hull, hull[0]]]]}
    if len(hull) == 2:
        return {"type": "LineString", "coordinates": [list(p) for p in hull]}
    return {"type": "Point", "coordinates": list(hull[0])}


# Outlines are drawn from bands of latitude this many to a degree (about 22 m each).
HULL_BANDS_PER_DEGREE = 5000


@login_required
@require_GET
def turfs_geojson(request, slug):
    """Each turf's outline as GeoJSON.

    The outline is the convex hull of the corners of each latitude band's bounding box
    (per turf, bands of 1/HULL_BANDS_PER_DEGREE degree): it holds every household and
    overshoots the exact hull by at most a band's height, while the database hands
    back a few thousand rows for a 100,000-household campaign instead of every door.
    """
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    bands = (
        TurfStop.objects.filter(
            turf__campaign=campaign, household__lat__isnull=False, household__lng__isnull=False
        )
        .annotate(band=Floor(F("household__lat") * HULL_BANDS_PER_DEGREE))
        .values("turf_id", "band")
        .annotate(
            west=Min("household__lng"),
            east=Max("household__lng"),
            south=Min("household__lat"),
            north=Max("household__lat"),
        )
        .order_by()
    )
    points = {}
    for row in bands:
        corners = points.setdefault(row["turf_id"], [])
        for lng in (row["west"], row["east"]):
            for lat in (row["south"], row["north"]):
                corners.append((round(lng, 6), round(lat, 6)))
    turfs = Turf.objects.filter(campaign=campaign, pk__in=points).annotate(doors=Count("stops"))
    progress = turf_progress(list(points))
    features = [
        {
            "type": "Feature",
            "id": turf.pk,
            "geometry": _hull_geometry(points[turf.pk]),
            "properties": {
                "id": turf.pk,
                "name": turf.name,
                "status": turf.status,
                "doors": turf.doors,
                "knocked": progress.get(turf.pk, {}).get("knocked", 0),
                "url": reverse("turf_detail", args=[campaign.slug, turf.pk]),
            },
        }
        for turf in turfs
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
@require_GET
def households_geojson(request, slug):
    """Households with coordinates as GeoJSON points, optionally for one ?turf= or ?precinct=.

    At most MAP_HOUSEHOLD_LIMIT; "truncated" says when there were more.
    """
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    households = Household.objects.filter(
        campaign=campaign, lat__isnull=False, lng__isnull=False
    ).order_by("pk")
    try:
        precinct = _text_param(request.GET, "precinct", Household, "precinct")
        turf_id = _id_param(request.GET, "turf")
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    if precinct:
        households = households.filter(precinct=precinct)
    if turf_id is not None:
        households = households.filter(stops__turf_id=turf_id)
    # A household is on one turf at a time; the subquery takes the newest, to be safe.
    turf_id = TurfStop.objects.filter(household=OuterRef("pk")).order_by("-turf_id")
    rows = list(
        households.annotate(turf_id=Subquery(turf_id.values("turf_id")[:1])).values_list(
            "pk", "house_number", "street", "unit", "lng", "lat", "turf_id"
        )[: MAP_HOUSEHOLD_LIMIT + 1]
    )
    truncated = len(rows) > MAP_HOUSEHOLD_LIMIT
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
            "properties": {
                "address": f"{number} {street}".strip() + (f", {unit}" if unit else ""),
                "turf": turf,
            },
        }
        for pk, number, street, unit, lng, lat, turf in rows[:MAP_HOUSEHOLD_LIMIT]
    ]
    return JsonResponse({"type": "FeatureCollection", "truncated": truncated, "features": features})


# --- Walk sheet -----------------------------------------------------------------


@login_required
@require_GET
def walk_sheet(request, slug, turf_id):
    """The paper backup of a walk list, for when phones die. Prints without JavaScript."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    turf = _turf_for(campaign, turf_id)
    stops = (
        TurfStop.objects.filter(turf=turf)
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "household__people",
                queryset=Person.objects.order_by("last_name", "first_name"),
            )
        )
        .order_by("position")
    )
    live = (
        Assignment.objects.live()
        .filter(turf=turf)
        .select_related("shift__campaign")
        .prefetch_related("volunteers")
        .order_by("-created_at")
        .first()
    )
    return render(
        request,
        "turf/walk_sheet.html",
        {
            "campaign": campaign,
            "turf": turf,
            "stops": stops,
            "assignment": live,
            "outcomes": OUTCOMES.choices,
        },
    )
