"""Pages for the people who follow up: my follow-ups, marking one, and follow-through."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from canvass.access import LEADS, ORGANIZERS, campaign_for_user
from canvass.models import Membership
from conversations.followups import (
    NOTE_MAX_LENGTH,
    SECTIONS,
    FollowUpSections,
    commitment_for_user,
    followup_record,
    followups_campaign_page,
    followups_owner_page,
    followups_sort,
)
from conversations.models import FollowUpEvent
from conversations.stats import campaign_followthrough

Outcome = FollowUpEvent.Outcome
SORT_LABELS = [
    ("when", "Soonest first"),
    ("-when", "Latest first"),
    ("person", "By name"),
    ("made", "Newest commitments first"),
]


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea)
    # What <input type="datetime-local"> sends, read in the campaign's time zone.
    new_when = forms.DateTimeField(
        required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
    )


def _sections(followups):
    return [
        ("today", "Due today", followups.today, "Nothing due today."),
        ("overdue", "Overdue", followups.overdue, "Nothing overdue."),
        ("upcoming", "Upcoming", followups.upcoming, "Nothing coming up."),
        ("undated", "To do (no date)", followups.undated, "Nothing without a date."),
    ]


def _followups_render(request, campaign, read, **extra):
    """The follow-ups page (the campaign's, or with `campaign` None the user's own): the
    page `read(section=, q=, sort=, page=)` returns, or its ValueError as a 400."""
    context = {"campaign": campaign, "sorts": SORT_LABELS, **extra}
    try:
        found = read(
            section=request.GET.get("section", ""),
            q=request.GET.get("q", ""),
            sort=request.GET.get("sort", "when"),
            page=request.GET.get("page", 1),
        )
    except ValueError as exc:
        return render(
            request, "conversations/followups.html", {**context, "error": str(exc)}, status=400
        )
    titles = {key: (title, empty) for key, title, _rows, empty in _sections(FollowUpSections())}
    sections = [
        (key, titles[key][0], rows, titles[key][1], found.counts[key])
        for key, rows in found.sections
    ]
    context.update(
        found=found,
        sections=sections,
        tabs=[(key, titles[key][0], found.counts[key]) for key in SECTIONS],
        total=sum(found.counts.values()),
    )
    return render(request, "conversations/followups.html", context)


@login_required
@require_GET
def followups_mine(request):
    """The open commitments the user owns, in every campaign they are a member of."""

    def read(**options):
        return followups_owner_page(request.user, **options)

    return _followups_render(request, None, read, show_campaign=True)


@login_required
@require_GET
def followups_campaign(request, slug):
    """Every open commitment in the campaign, for its organizers to see and act on."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)

    def read(**options):
        return followups_campaign_page(campaign, **options)

    return _followups_render(request, campaign, read, show_owner=True)


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def followup_mark(request, pk):
    """One commitment: its history, and the form to mark what happened (POST)."""
    commitment = commitment_for_user(request.user, pk)
    form = FollowUpForm()
    status = 200
    if request.method == "POST":
        with timezone.override(commitment.campaign.tz):
            form = FollowUpForm(request.POST)
            valid = form.is_valid()
        if valid:
            outcome = form.cleaned_data["outcome"]
            try:
                followup_record(
                    commitment=commitment,
                    outcome=outcome,
                    by=request.user,
                    note=form.cleaned_data["note"],
                    # A date typed and then left for another button is not a reschedule.
                    new_when=(
                        form.cleaned_data["new_when"] if outcome == Outcome.RESCHEDULED else None
                    ),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                name = commitment.person or "the person"
                messages.success(
                    request, f"Marked {Outcome(outcome).label.lower()}: {name} — {commitment.what}."
                )
                return redirect(_next_url(request) or "followups_mine")
        status = 400
    sections = followups_sort([commitment])
    row = (sections.today + sections.overdue + sections.upcoming + sections.undated)[0]
    events = commitment.followup_events.select_related("by")
    return render(
        request,
        "conversations/followup_detail.html",
        {"row": row, "form": form, "events": events, "next": _next_url(request)},
        status=status,
    )


@login_required
@require_GET
def followthrough(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=LEADS)
    numbers = campaign_followthrough(campaign)
    return render(
        request,
        "conversations/followthrough.html",
        {
            "campaign": campaign,
            "followthrough": numbers,
            "total_rows": [numbers.total],
            "is_organizer": Membership.objects.filter(
                user=request.user, campaign=campaign, role=Membership.Role.ORGANIZER
            ).exists(),
        },
    )
