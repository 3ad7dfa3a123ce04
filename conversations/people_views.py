"""People in a campaign: find one, read their conversations.

Organizers and field leads read here; a story note's words go through conversations.notes
(a sensitive note only to organizers, each reading audited).
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from canvass.access import LEADS, campaign_for_user
from canvass.models import Membership
from conversations.models import Commitment, StoryNote, Visit
from conversations.notes import story_notes_read
from turf.models import Person

PEOPLE_SHOWN = 50


def _person_for(campaign, pk):
    return get_object_or_404(Person.objects.select_related("household"), pk=pk, campaign=campaign)


def _is_organizer(user, campaign):
    return Membership.objects.filter(
        user=user, campaign=campaign, role=Membership.Role.ORGANIZER
    ).exists()


@login_required
@require_GET
def people_list(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    query = request.GET.get("q", "").strip()[:100]
    people = Person.objects.none()
    if query:
        people = (
            Person.objects.filter(campaign=campaign)
            .filter(
                Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(phone__contains=query)
                | Q(email__iexact=query)
                | Q(external_id=query)
            )
            .select_related("household")
            .order_by("last_name", "first_name", "pk")[:PEOPLE_SHOWN]
        )
    return render(
        request,
        "conversations/people.html",
        {
            "campaign": campaign,
            "query": query,
            "people": people,
            "shown": PEOPLE_SHOWN,
            "can_edit": _is_organizer(request.user, campaign),
            "section": "people",
        },
    )


def _person_page(request, campaign, person, *, status=200):
    visits = list(
        Visit.objects.filter(person=person)
        .select_related("volunteer", "household")
        .order_by("-happened_at")
    )
    notes = {
        note.visit_id: note
        for note in StoryNote.objects.filter(visit__in=visits).select_related("visit")
    }
    words = story_notes_read(notes=notes.values(), user=request.user, via="person page")
    for visit in visits:
        visit.note_shown = notes.get(visit.pk)
        visit.words = words.get(visit.note_shown.pk) if visit.note_shown else None
    is_organizer = _is_organizer(request.user, campaign)
    return render(
        request,
        "conversations/person.html",
        {
            "campaign": campaign,
            "person": person,
            "visits": visits,
            "commitments": Commitment.objects.filter(person=person).order_by("-created_at"),
            "can_edit": is_organizer,
            "section": "people",
        },
        status=status,
    )


@login_required
@require_GET
def person_detail(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    return _person_page(request, campaign, _person_for(campaign, pk))
