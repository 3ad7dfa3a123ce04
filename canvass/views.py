from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import HOLDING, Campaign, Membership, Shift
from conversations.models import Commitment, Visit
from conversations.numbers import numbers_cached
from conversations.stats import campaign_followthrough
from turf.geocoding.services import unlocated_counts
from turf.models import Household, Person, Turf


def home(request):
    """Landing page: what Porchlight is, and for a signed-in user, their campaigns."""
    memberships = []
    if request.user.is_authenticated:
        memberships = (
            Membership.objects.filter(user=request.user)
            .select_related("campaign")
            .order_by("campaign__name")
        )
    return render(
        request,
        "canvass/home.html",
        {
            "memberships": memberships,
            "campaign_count": Campaign.objects.count(),
            "dashboard_roles": LEADS,
        },
    )


UPCOMING_SHIFTS = 8


def _overview_counts(campaign):
    """The overview's counts: each a scan of the campaign's rows, so kept between writes."""
    turfs = dict(
        Turf.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    visits = Visit.objects.filter(campaign=campaign).aggregate(
        visits=Count("pk"),
        conversations=Count("pk", filter=Q(outcome=Visit.Outcome.CONVERSATION)),
        doors=Count("household", distinct=True),
    )
    commitments = Commitment.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status=Commitment.Status.OPEN))
    )
    counts = {
        "households": Household.objects.filter(campaign=campaign).count(),
        "people": Person.objects.filter(campaign=campaign).count(),
        "uncut": Household.objects.filter(campaign=campaign, stops__isnull=True).count(),
        **{f"{k}_households": v for k, v in unlocated_counts(campaign).items()},
        "turfs_open": turfs.get(Turf.Status.OPEN, 0),
        "turfs_assigned": turfs.get(Turf.Status.ASSIGNED, 0),
        "turfs_done": turfs.get(Turf.Status.DONE, 0),
        "turfs": sum(turfs.values()),
        **visits,
        "commitments": commitments["total"],
        "commitments_open": commitments["open"],
    }
    return counts


@login_required
@require_GET
def campaign_dashboard(request, slug):
    """The organizer's overview: how big the campaign is, how far the turf has got,
    and the shifts coming up. Field leads see it too, without the buttons that change things."""
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    counts = numbers_cached(campaign, "overview", lambda: _overview_counts(campaign))
    now = timezone.now()
    # Spots taken: the waitlist and cancellations are not "signed up".
    live_signups = Q(signups__status__in=HOLDING)
    shifts = (
        Shift.objects.filter(campaign=campaign, ends_at__gt=now, cancelled_at__isnull=True)
        .select_related("campaign")
        .annotate(
            signed_up=Count("signups", filter=live_signups, distinct=True),
            assigned_turfs=Count(
                "assignments",
                filter=Q(assignments__revoked_at__isnull=True, assignments__expires_at__gt=now),
                distinct=True,
            ),
        )
        .order_by("starts_at")[:UPCOMING_SHIFTS]
    )
    return render(
        request,
        "dashboard/overview.html",
        {
            "campaign": campaign,
            "counts": counts,
            "followthrough": campaign_followthrough(campaign, breakdowns=False).total,
            "shifts": shifts,
            "can_edit": request.user.memberships.filter(
                campaign=campaign, role__in=ORGANIZERS
            ).exists(),
            "section": "overview",
        },
    )


def healthz(request):
    """For load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
