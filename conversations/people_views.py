"""People in a campaign: find one, read their conversations, forget them on request.

Organizers and field leads read here; a story note's words go through conversations.notes
(a sensitive note only to organizers, each reading audited). Only an organizer forgets.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import Membership, language_code
from conversations.models import Commitment, StoryNote, Visit
from conversations.notes import story_notes_read
from conversations.services.lifecycle import person_forget
from turf.models import Person
from turf.services import person_details_set

PEOPLE_SHOWN = 50


class ForgetForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Erase this person's details, stories and messages. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm: erasing cannot be undone."},
    )


class PersonDetailsForm(forms.Form):
    language = forms.ChoiceField(
        required=False,
        choices=[("", "Not recorded (the campaign's language)")] + list(settings.LANGUAGES),
        help_text="Their reminders and replies go out in it.",
    )
    timezone = forms.CharField(
        required=False,
        max_length=64,
        label="Time zone they live in",
        help_text="An IANA name such as America/Anchorage or Europe/London. Blank: from "
        "their address, else their number. Texts go only between the campaign's quiet "
        "hours there.",
    )


def _details_form(person, data=None):
    initial = {"language": language_code(person.language), "timezone": person.timezone}
    return PersonDetailsForm(data, initial=initial)


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


def _person_page(request, campaign, person, *, form=None, details_form=None, status=200):
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
            "forget_form": (form or ForgetForm()) if is_organizer else None,
            "details_form": (details_form or _details_form(person)) if is_organizer else None,
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


@login_required
@require_POST
def person_details(request, slug, pk):
    """An organizer records the language a person speaks and the zone they live in."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    person = _person_for(campaign, pk)
    form = _details_form(person, request.POST)
    if form.is_valid():
        try:
            person_details_set(
                person=person,
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["timezone"],
                by=request.user,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field, problem)
    if form.errors:
        return _person_page(request, campaign, person, details_form=form, status=400)
    messages.success(request, "Saved: their next messages use this language and time zone.")
    return redirect("person_detail", slug=campaign.slug, pk=person.pk)


@login_required
@require_POST
def person_forget_view(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    person = _person_for(campaign, pk)
    form = ForgetForm(request.POST)
    if not form.is_valid():
        return _person_page(request, campaign, person, form=form, status=400)
    try:
        person_forget(person=person, by=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return _person_page(request, campaign, person, form=form, status=400)
    messages.success(
        request,
        "Forgotten: their details, stories and messages are erased, and they will never be "
        "texted or emailed again.",
    )
    return redirect("person_detail", slug=campaign.slug, pk=person.pk)
