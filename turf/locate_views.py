"""Organizer pages for households not on the map: how many and which, the geocoding run
and its progress, and the hand fixes (place one on the map, or correct its address).

Field leads may look; only organizers start a run or change a household.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from turf.geocoding.fixes import household_address_correct, household_place
from turf.geocoding.services import geocode_job_create, unlocated_counts
from turf.models import GeocodeJob, Household, TurfStop

HOUSEHOLDS_PER_PAGE = 100


def _is_organizer(user, campaign):
    return user.memberships.filter(campaign=campaign, role__in=ORGANIZERS).exists()


def _job_status(job):
    if job is None:
        return None
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "percent": job.percent,
        "households_total": job.households_total,
        "households_done": job.households_done,
        "located": job.located,
        "not_found": job.not_found,
        "from_cache": job.from_cache,
        "still_pending": job.still_pending,
        "error": job.error,
    }


def _unlocated(campaign):
    turf = TurfStop.objects.filter(household=OuterRef("pk")).values("turf__name")[:1]
    return (
        Household.objects.filter(campaign=campaign)
        .unlocated()
        .annotate(turf_name=Subquery(turf))
        .order_by("street", "house_number", "unit", "pk")
    )


@login_required
@require_GET
def households_unlocated(request, slug):
    """The households not on the map, why, and what to do about each."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    kind = request.GET.get("show", "")
    households = _unlocated(campaign)
    if kind == "pending":
        households = households.filter(geocoder="")
    elif kind == "not_found":
        households = households.exclude(geocoder="")
    page = Paginator(households, HOUSEHOLDS_PER_PAGE).get_page(request.GET.get("page"))
    job = GeocodeJob.objects.filter(campaign=campaign).first()
    return render(
        request,
        "dashboard/locate.html",
        {
            "campaign": campaign,
            "counts": unlocated_counts(campaign),
            "located": Household.objects.filter(campaign=campaign).located().count(),
            "page": page,
            "show": kind,
            "job": job,
            "job_running": job is not None
            and job.status in (GeocodeJob.Status.PENDING, GeocodeJob.Status.RUNNING),
            "geocoder": settings.GEOCODER,
            "can_edit": _is_organizer(request.user, campaign),
            "section": "locate",
        },
    )


@login_required
@require_GET
def geocode_status(request, slug):
    """The latest geocoding run's progress, for the page's progress bar to poll."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    job = GeocodeJob.objects.filter(campaign=campaign).first()
    return JsonResponse({"job": _job_status(job), "counts": unlocated_counts(campaign)})


@login_required
@require_POST
def geocode_start(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    counts = unlocated_counts(campaign)
    if not counts["pending"]:
        messages.info(
            request,
            "No household is waiting for the geocoder. Those it did not find need their "
            "address corrected or a place on the map, one by one below.",
        )
    else:
        job = geocode_job_create(campaign=campaign, created_by=request.user)
        messages.success(
            request,
            f"Locating {counts['pending']} households (run {job.pk}); "
            "this page shows how far it got.",
        )
    return redirect("households_unlocated", slug=campaign.slug)


class AddressForm(forms.Form):
    house_number = forms.CharField(max_length=20, label="House number")
    street = forms.CharField(max_length=200)
    unit = forms.CharField(max_length=40, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=40, required=False)
    zip_code = forms.CharField(max_length=10, required=False, label="ZIP code")


class PlaceForm(forms.Form):
    lat = forms.FloatField(min_value=-90, max_value=90, label="Latitude")
    lng = forms.FloatField(min_value=-180, max_value=180, label="Longitude")


def _map_center(campaign, household):
    """Where the pin map opens: a located neighbour on the same street, else any door."""
    located = Household.objects.filter(campaign=campaign).located()
    near = located.filter(street__iexact=household.street).first() or located.first()
    return (near.lat, near.lng) if near else None


@login_required
def household_locate_view(request, slug, pk):
    """One household: place it on the map by hand, or correct its address and retry."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    household = get_object_or_404(Household, pk=pk, campaign=campaign)
    action = request.POST.get("action") if request.method == "POST" else None
    address = AddressForm(
        request.POST if action == "address" else None,
        prefix="address",
        initial={f: getattr(household, f) for f in AddressForm.base_fields},
    )
    place = PlaceForm(
        request.POST if action == "place" else None,
        prefix="place",
        initial={"lat": household.lat, "lng": household.lng},
    )
    form = {"address": address, "place": place}.get(action)
    if form is not None and form.is_valid():
        try:
            if action == "place":
                household = household_place(
                    household=household, placed_by=request.user, **form.cleaned_data
                )
                messages.success(request, f"{household.address_line} is on the map now.")
            else:
                household = household_address_correct(
                    household=household, corrected_by=request.user, **form.cleaned_data
                )
                if household.lat is not None:
                    messages.success(
                        request,
                        f"{household.address_line} is on the map now "
                        f"({household.get_location_quality_display().lower()}).",
                    )
                else:
                    messages.warning(
                        request,
                        f"The address is corrected, but {household.address_line} is still not "
                        f"on the map: {household.location_detail or 'waiting for the geocoder'}. "
                        "Place it by hand, or correct the address again.",
                    )
                    return redirect("household_locate", slug=campaign.slug, pk=household.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("households_unlocated", slug=campaign.slug)
    return render(
        request,
        "dashboard/locate_household.html",
        {
            "campaign": campaign,
            "household": household,
            "address": address,
            "place": place,
            "map_center": _map_center(campaign, household),
            "tiles_url": settings.MAP_TILES_URL,
            "tiles_attribution": settings.MAP_TILES_ATTRIBUTION,
            "can_edit": True,
            "section": "locate",
        },
    )
