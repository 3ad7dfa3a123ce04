"""Organizer pages of the outbox: replies waiting for a person, and reminders whose outcome
a person must settle ("needs a person")."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from canvass.access import ORGANIZERS, campaign_for_user
from conversations.models import Commitment, InboundSms, Reminder
from conversations.services import (
    inbound_answer,
    inbound_mark_handled,
    reminder_current_next,
    reminder_current_plan,
    reminder_resend_refusal,
    reminder_resolve,
    reminder_send_current_instead,
)
from conversations.services.delivery import per_person_per_day
from conversations.services.inbound import ANSWER_MAX_LENGTH

INBOX_SHOWN = 200


class AnswerForm(forms.Form):
    body = forms.CharField(max_length=ANSWER_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


def _replies(campaign):
    return InboundSms.objects.filter(
        campaign=campaign, handled_as=InboundSms.Handling.OTHER
    ).select_related("commitment__person", "commitment__owner", "handled_by")


@login_required
@require_GET
def replies_inbox(request, slug):
    """Texts people sent that are not a keyword: unread first, with whom and what about."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    replies = _replies(campaign)
    return render(
        request,
        "conversations/replies.html",
        {
            "campaign": campaign,
            "unread": list(
                replies.filter(handled_at__isnull=True).order_by("received_at")[:INBOX_SHOWN]
            ),
            "handled": list(replies.filter(handled_at__isnull=False).order_by("-handled_at")[:20]),
            "answer_max": ANSWER_MAX_LENGTH,
        },
    )


@login_required
@require_POST
def reply_answer(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    inbound = get_object_or_404(_replies(campaign), pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Nothing was sent: {error}")
        return redirect("replies_inbox", slug=campaign.slug)
    try:
        inbound_answer(inbound=inbound, body=form.cleaned_data["body"], by=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, f"Nothing was sent: {error}")
    else:
        messages.success(
            request,
            f"Answer to {inbound.from_number} queued: it goes out now, or at 8:00 their time "
            "if it is night where they are.",
        )
    return redirect("replies_inbox", slug=campaign.slug)


@login_required
@require_POST
def reply_handled(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    inbound = get_object_or_404(_replies(campaign), pk=pk)
    if inbound_mark_handled(inbound=inbound, by=request.user):
        messages.success(request, f"The reply from {inbound.from_number} is marked handled.")
    return redirect("replies_inbox", slug=campaign.slug)


@login_required
@require_GET
def reminders_needing_a_person(request, slug):
    """Reminders whose outcome is unknown or that failed: nothing happens to them by
    themselves. A row of an older plan says why it cannot be sent again, and shows the
    current plan instead."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    rows = []
    for reminder in (
        Reminder.objects.filter(campaign=campaign)
        .needs_a_person()
        .select_related("commitment__person", "campaign")
        .order_by("send_at", "pk")[:INBOX_SHOWN]
    ):
        refusal = reminder_resend_refusal(reminder)
        current = (
            reminder_current_plan(reminder.commitment) if refusal and reminder.commitment else []
        )
        upcoming = (
            reminder_current_next(reminder.commitment)
            if current and reminder.commitment.status == Commitment.Status.OPEN
            else None
        )
        rows.append(
            {"reminder": reminder, "refusal": refusal, "current": current, "next": upcoming}
        )
    held = (
        Reminder.objects.filter(campaign=campaign)
        .held_by_daily_cap()
        .select_related("commitment")
        .order_by("send_at", "pk")
    )
    return render(
        request,
        "conversations/needs_a_person.html",
        {
            "campaign": campaign,
            "rows": rows,
            "held": list(held[:INBOX_SHOWN]),
            "held_count": held.count(),
            "daily_cap": per_person_per_day(),
        },
    )


@login_required
@require_POST
def reminder_settle(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    reminder = get_object_or_404(Reminder, pk=pk, campaign=campaign)
    outcome = request.POST.get("outcome", "")
    try:
        reminder_resolve(reminder=reminder, outcome=outcome, by=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = "marked sent" if outcome == "sent" else "queued to be sent again now"
        messages.success(request, f"Reminder to {reminder.to} {done}.")
    return redirect("reminders_needing_a_person", slug=campaign.slug)


@login_required
@require_POST
def reminder_current_instead(request, slug, pk):
    """One tap: send the current plan's next message instead of a row of an older plan."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    reminder = get_object_or_404(Reminder, pk=pk, campaign=campaign)
    try:
        upcoming = reminder_send_current_instead(reminder=reminder, by=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, f"Nothing was sent: {error}")
    else:
        messages.success(
            request,
            f"“{upcoming.step_label}” of the current plan queued for {upcoming.to}: it goes out "
            "now, or when their quiet hours, the daily cap or the gap between messages allow.",
        )
    return redirect("reminders_needing_a_person", slug=campaign.slug)
