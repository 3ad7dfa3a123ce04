"""The organizer's page of visits the server would not take, handed over from phones."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from canvass.access import ORGANIZERS, campaign_for_user
from canvass.models import AuditEvent
from conversations.models import HeldVisit, Visit
from conversations.services.visits import held_visit_resolve
from turf.models import Household

OUTCOMES = dict(Visit.Outcome.choices)


def _summary(held, doors):
    """What the phone held, in words an organizer reads (never trusted for anything else)."""
    visit = held.payload if isinstance(held.payload, dict) else {}
    note = visit.get("story_note") if isinstance(visit.get("story_note"), dict) else {}
    person = visit.get("new_person") if isinstance(visit.get("new_person"), dict) else {}
    commitments = visit.get("commitments") if isinstance(visit.get("commitments"), list) else []
    household = doors.get(visit.get("household_id"))
    return {
        "held": held,
        "outcome": OUTCOMES.get(visit.get("outcome"), str(visit.get("outcome", ""))),
        "happened_at": str(visit.get("happened_at", "")),
        "door": household.address_line if household else "",
        "place": str(visit.get("place") or ""),
        "note": str(visit.get("note") or ""),
        "new_person": " ".join(str(person.get(k) or "") for k in ("first_name", "last_name")),
        "story": str(note.get("story") or ""),
        "why": str(note.get("why") or ""),
        "commitments": [str(c.get("what") or "") for c in commitments if isinstance(c, dict)],
        "volunteers": ", ".join(str(v) for v in held.assignment.volunteers.all())
        if held.assignment
        else "",
    }


@login_required
@require_GET
def held_visits(request, slug):
    """Every held visit of the campaign not yet dealt with, oldest first."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    rows = list(
        HeldVisit.objects.filter(campaign=campaign, resolved_at__isnull=True)
        .select_related("assignment__turf")
        .prefetch_related("assignment__volunteers")
    )
    ids = {r.payload.get("household_id") for r in rows if isinstance(r.payload, dict)}
    doors = Household.objects.filter(
        campaign=campaign, pk__in=[i for i in ids if isinstance(i, int)]
    ).in_bulk()
    if rows:
        # Held visits carry story notes as written, sensitive ones included.
        AuditEvent.objects.create(
            campaign=campaign,
            actor=request.user,
            action="held_visits.read",
            target=f"campaign:{campaign.pk}",
            detail={"held_visits": [r.pk for r in rows]},
        )
    return render(
        request,
        "conversations/held_visits.html",
        {"campaign": campaign, "rows": [_summary(r, doors) for r in rows]},
    )


@login_required
@require_POST
def held_visit_done(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    held = get_object_or_404(HeldVisit, pk=pk, campaign=campaign)
    if held_visit_resolve(held=held, resolved_by=request.user):
        messages.success(request, "Marked as dealt with.")
    return redirect("held_visits", slug=campaign.slug)
