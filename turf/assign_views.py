"""Organizer pages for assigning turf: make a link, show it again with its QR code, send it
to the volunteer by text or email through the outbox, turn it off, or replace a lost one.

Only organizers; every response that may carry a link's token is kept by no cache.
"""

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from canvass.access import ORGANIZERS, campaign_for_user
from canvass.models import AuditEvent, Shift, Volunteer
from conversations.models import Channel
from turf.models import Assignment, Turf
from turf.services import (
    assignment_link,
    assignment_link_send,
    assignment_link_sent,
    assignment_reissue,
    assignment_revoke,
    turf_assign,
)
from turf.views import _ID, _assignment_for, segno_svg


class TurfChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, turf):
        return f"{turf.name} ({turf.doors} doors, {turf.get_status_display().lower()})"


class AssignForm(forms.Form):
    turf = TurfChoiceField(queryset=Turf.objects.none())
    volunteer = forms.ModelChoiceField(queryset=Volunteer.objects.none())
    partner = forms.ModelChoiceField(
        queryset=Volunteer.objects.none(),
        required=False,
        empty_label="No one (walks alone)",
        label="Walking with",
    )
    shift = forms.ModelChoiceField(
        queryset=Shift.objects.none(), required=False, empty_label="No shift (link lasts 12 h)"
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["turf"].queryset = (
            Turf.objects.filter(campaign=campaign)
            .exclude(status=Turf.Status.DONE)
            .annotate(doors=Count("stops"))
            .order_by("name")
        )
        volunteers = Volunteer.objects.filter(campaign=campaign, active=True)
        self.fields["volunteer"].queryset = volunteers
        self.fields["partner"].queryset = volunteers
        # Shifts still running or to come; an old shift's link would be born expired.
        self.fields["shift"].queryset = Shift.objects.filter(
            campaign=campaign, ends_at__gt=timezone.now(), cancelled_at__isnull=True
        ).select_related("campaign")

    def clean(self):
        data = super().clean()
        if data.get("partner") and data.get("partner") == data.get("volunteer"):
            self.add_error("partner", "Pick someone else, or no one, to walk with.")
        return data


def _link_page(request, campaign, assignment, token, *, replaced=()):
    """The link, its QR code and the ways to send it: right after it is made, or again."""
    link = assignment_link(token)
    volunteers = list(assignment.volunteers.all())
    return render(
        request,
        "dashboard/assignment_link.html",
        {
            "campaign": campaign,
            "assignment": assignment,
            "volunteers": volunteers,
            "link": link,
            "qr_svg": segno_svg(link),
            "replaced": replaced,
            # One key per form shown: submitting it twice sends one message.
            "request_key": secrets.token_hex(16),
            "sent": list(assignment_link_sent(assignment)[:20]),
            "channels": Channel,
            "section": "assign",
            "can_edit": True,
        },
    )


# The response may carry a link's token: no browser or proxy may keep a copy.
@never_cache
@login_required
def assign(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    form = AssignForm(
        request.POST or None,
        campaign=campaign,
        initial={"turf": request.GET.get("turf"), "shift": request.GET.get("shift")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        volunteers = [data["volunteer"]] + ([data["partner"]] if data["partner"] else [])
        # Read before the write only to tell the organizer whose link stops working.
        replaced = list(Assignment.objects.live().filter(turf=data["turf"], shift=data["shift"]))
        try:
            assignment, token = turf_assign(
                turf=data["turf"],
                volunteers=volunteers,
                shift=data["shift"],
                assigned_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _link_page(request, campaign, assignment, token, replaced=replaced)
    return render(
        request,
        "dashboard/assign.html",
        {"campaign": campaign, "form": form, "section": "assign", "can_edit": True},
    )


@login_required
@require_POST
def assignment_revoke_view(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    assignment = _assignment_for(campaign, pk)
    if assignment_revoke(assignment=assignment, revoked_by=request.user):
        messages.success(request, f"The link for “{assignment.turf.name}” is turned off.")
    else:
        messages.info(request, "That link was already turned off.")
    return redirect("turf_detail", slug=campaign.slug, turf_id=assignment.turf_id)


@never_cache
@login_required
@require_POST
def assignment_reissue_view(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    old = _assignment_for(campaign, pk)
    try:
        assignment, token = assignment_reissue(assignment=old, issued_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("turf_detail", slug=campaign.slug, turf_id=old.turf_id)
    return _link_page(request, campaign, assignment, token, replaced=[old])


@never_cache
@login_required
@require_GET
def assignment_link_view(request, slug, pk):
    """Show a live link and its QR code again (for a volunteer who lost it, or to send it)."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    assignment = _assignment_for(campaign, pk)
    token = assignment.link_token() if assignment.is_live else None
    if token is None:
        messages.error(
            request,
            "This link has ended or was shown only once when it was made; it cannot be shown "
            "again. Make a new link instead (the old one stops working).",
        )
        return redirect("turf_detail", slug=campaign.slug, turf_id=assignment.turf_id)
    AuditEvent.objects.create(
        campaign=campaign,
        actor=request.user,
        action="assignment.link_show",
        target=f"assignment:{assignment.pk}",
        detail={"turf": assignment.turf_id},
    )
    return _link_page(request, campaign, assignment, token)


@login_required
@require_POST
def assignment_link_send_view(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    assignment = _assignment_for(campaign, pk)
    raw = request.POST.get("volunteer", "").strip()
    volunteer = assignment.volunteers.filter(pk=int(raw)).first() if _ID.fullmatch(raw) else None
    try:
        if volunteer is None:
            raise ValidationError("Pick one of the assignment's volunteers to send the link to.")
        reminder, held_until = assignment_link_send(
            assignment=assignment,
            volunteer=volunteer,
            channel=request.POST.get("channel", ""),
            request_key=request.POST.get("request_key", ""),
            sent_by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        how = "texted" if reminder.channel == Channel.SMS else "emailed"
        if held_until is not None:
            messages.success(
                request,
                f"The link will be {how} to {volunteer} at {held_until:%H:%M} their time, "
                "when their quiet hours end.",
            )
        else:
            messages.success(request, f"The link is being {how} to {volunteer} ({reminder.to}).")
    return redirect("assignment_link", slug=campaign.slug, pk=assignment.pk)
