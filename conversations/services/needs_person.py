"""Reminders that wait for a person: what the current plan holds instead of a row of an
older one, sending its next message now, and an organizer's "sent" / "resend" / "drop".

The outbox itself (claiming, sending once, the caps) is in delivery; docs/reminders.md.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from canvass.celery import enqueue_on_commit
from canvass.models import AuditEvent
from conversations.models import (
    Commitment,
    Reminder,
)
from conversations.services.delivery import REPLY_STEPS, reminder_plan_version


def reminder_current_plan(commitment):
    """The rows of the commitment's current plan still to go or already gone, oldest
    first: what to offer instead of a message from an older plan."""
    return list(
        commitment.reminders.filter(
            idempotency_key__startswith=f"commitment:{commitment.pk}:v{commitment.plan_version}:"
        )
        .exclude(status=Reminder.Status.CANCELLED)
        .order_by("send_at", "pk")
    )


def reminder_resend_refusal(reminder):
    """Why "send again" must not be used on this row, or "".

    A row of an older plan, or of a commitment that is no longer open, would tell the
    person old details (a date they have since been told has moved) and count against
    the cap for nothing: the current plan is what to send."""
    commitment = reminder.commitment
    if commitment is None:
        return ""
    commitment.refresh_from_db()
    if commitment.status != Commitment.Status.OPEN and reminder.step not in REPLY_STEPS:
        return (
            f"Reminder {reminder.pk} cannot be sent again: its commitment is "
            f"{commitment.get_status_display().lower()}."
        )
    version = reminder_plan_version(reminder)
    if version is None or version == commitment.plan_version:
        return ""
    current = reminder_current_plan(commitment)
    tz = commitment.campaign.tz
    listed = "; ".join(
        f"{row.step_label} on {row.send_at.astimezone(tz):%a %b %-d, %H:%M} "
        f"({row.get_status_display().lower()})"
        for row in current
    )
    return (
        f"Reminder {reminder.pk} cannot be sent again: it belongs to an older plan, and the "
        f"commitment has changed since (it is now “{commitment.what}”"
        + (f", {commitment.when.astimezone(tz):%a %b %-d at %H:%M}" if commitment.when else "")
        + "), so it would give them old details. "
        + (f"The current plan: {listed}." if listed else "The current plan has nothing to send.")
    )


def reminder_current_next(commitment):
    """The current plan's next message to the person still to go (pending), or None."""
    for row in reminder_current_plan(commitment):
        if (
            row.status == Reminder.Status.PENDING
            and row.recipient_kind == Reminder.Recipient.PERSON
        ):
            return row
    return None


def reminder_send_current_instead(*, reminder, by, now=None):
    """Instead of sending again a row of an older plan, send the current plan's next message
    to the person now. Returns that row.

    It goes through the outbox like any other: quiet hours, the caps, the gap and opt-outs
    still hold when the worker takes it. The old row stops waiting for a person: a failed
    one never arrived (suppressed), an unknown one may have, so it is "replaced" and still
    counts towards the cap. Raises ValidationError, changing nothing, when the row is not
    waiting for a person, is of the current plan (send it again instead), its commitment
    is no longer open, or the current plan has nothing left to send. Audited.
    """
    now = now or timezone.now()
    with transaction.atomic():
        old = (
            Reminder.objects.select_for_update()
            .filter(pk=reminder.pk, status__in=[Reminder.Status.UNKNOWN, Reminder.Status.FAILED])
            .first()
        )
        if old is None:
            raise ValidationError(f"Reminder {reminder.pk} is not waiting for a person.")
        if old.commitment_id is None:
            raise ValidationError(f"Reminder {old.pk} is not about a commitment: no plan to send.")
        commitment = Commitment.objects.select_for_update().get(pk=old.commitment_id)
        if commitment.status != Commitment.Status.OPEN:
            raise ValidationError(
                f"Its commitment is {commitment.get_status_display().lower()}: there is "
                "nothing more to tell them about it."
            )
        version = reminder_plan_version(old)
        if version is None or version == commitment.plan_version:
            raise ValidationError(
                f"Reminder {old.pk} belongs to the current plan: use “Send again now”."
            )
        upcoming = reminder_current_next(commitment)
        if upcoming is None:
            raise ValidationError(
                "The current plan has nothing left to send to them: every message of it "
                "has gone or was left out."
            )
        if upcoming.send_at > now:
            Reminder.objects.filter(pk=upcoming.pk, status=Reminder.Status.PENDING).update(
                send_at=now, queued_at=None
            )
        who = by.get_full_name() or by.get_username()
        note = (
            f"Replaced: {who} sent the current plan's “{upcoming.step_label}” instead, "
            f"on {now.astimezone(commitment.campaign.tz):%b %-d at %H:%M}."
        )
        Reminder.objects.filter(pk=old.pk).update(
            status=(
                Reminder.Status.REPLACED
                if old.status == Reminder.Status.UNKNOWN
                else Reminder.Status.SUPPRESSED
            ),
            last_error=note,
        )
        AuditEvent.objects.create(
            campaign=old.campaign,
            actor=by,
            action="reminder.resolve.current_instead",
            target=f"reminder {old.pk}",
            detail={"to": old.to, "was": old.status, "instead": upcoming.pk},
        )
        enqueue_on_commit("conversations.tasks.reminder_send", upcoming.pk)
    upcoming.refresh_from_db()
    return upcoming


def reminder_resolve(*, reminder, outcome, by):
    """A person settles a reminder whose outcome is unknown (or that failed).

    outcome "sent": it did arrive (the person asked, or the provider's log shows
    it). outcome "resend": it did not; send it again now. Raises ValidationError
    when the reminder is not waiting for a person. Records an audit event.
    """
    if outcome not in ("sent", "resend"):
        raise ValidationError(f"“{outcome}” is not a way to resolve a reminder: sent or resend.")
    waiting = Reminder.objects.filter(
        pk=reminder.pk, status__in=[Reminder.Status.UNKNOWN, Reminder.Status.FAILED]
    )
    now = timezone.now()
    if outcome == "resend":
        refusal = reminder_resend_refusal(reminder)
        if refusal:
            raise ValidationError(refusal)
    with transaction.atomic():
        if outcome == "sent":
            done = waiting.update(status=Reminder.Status.SENT, sent_at=now)
        else:
            # The claim is kept: if the call it belonged to still answers "taken", that
            # settles the row as sent before the new send claims it.
            done = waiting.update(
                status=Reminder.Status.PENDING,
                send_at=now,
                attempts=0,
                queued_at=None,
                provider_called_at=None,
            )
        if not done:
            raise ValidationError(
                f"Reminder {reminder.pk} is not waiting for a person (it is "
                f"{Reminder.objects.get(pk=reminder.pk).get_status_display().lower()})."
            )
        AuditEvent.objects.create(
            campaign=reminder.campaign,
            actor=by,
            action=f"reminder.resolve.{outcome}",
            target=f"reminder {reminder.pk}",
            detail={"to": reminder.to, "was": reminder.status},
        )
    reminder.refresh_from_db()
    return reminder
