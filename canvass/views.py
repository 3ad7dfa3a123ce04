from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from canvass.models import Campaign, Membership


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
        {"memberships": memberships, "campaign_count": Campaign.objects.count()},
    )


def healthz(request):
    """For load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
