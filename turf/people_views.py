"""An organizer's page for one person: contact, voter-file status and extra fields, visits."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from canvass.access import campaign_for_user
from turf.models import Person


@login_required
@require_GET
def person_detail(request, slug, person_id):
    campaign = campaign_for_user(request.user, slug)
    person = get_object_or_404(
        Person.objects.select_related("household"), pk=person_id, campaign=campaign
    )
    visits = person.visits.order_by("-happened_at")[:50]
    return render(
        request,
        "turf/person_detail.html",
        {
            "campaign": campaign,
            "person": person,
            "extra": sorted(person.extra.items()),
            "visits": visits,
        },
    )
