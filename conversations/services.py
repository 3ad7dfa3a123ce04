"""Writes for conversations: visits, commitments and the reminder outbox."""

import logging
import zoneinfo
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from canvass.celery import enqueue_on_commit
from canvass.messaging import SmsError, SmsOutcomeUnknown, sms_backend
from canvass.phones import phone_normalize, phone_timezones
from conversations.models import Channel, Commitment, OptOut, Reminder

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A row left in "sending" longer than this was being sent by a worker that died.
STALE_SENDING_AFTER = timedelta(minutes=10)


def recipient_timezone(reminder):
    """The recipient's zone: from the phone number when it names one zone, else the campaign's."""
    if reminder.channel == Channel.SMS:
        zones = phone_timezones(reminder.to)
        if len(zones) == 1:
            return zoneinfo.ZoneInfo(zones[0])
    return reminder.campaign.tz


def quiet_until(campaign, local_now):
    """If `local_now` falls in the campaign's quiet hours, the local time they end; else None."""
    start, end = campaign.quiet_hours_start, campaign.quiet_hours_end
    t = local_now.timetz().replace(tzinfo=None)
    if start > end:  # overnight, e.g. 21:00–08:00
        if t >= start:
            day = local_now.date() + timedelta(days=1)
        elif t < end:
            day = local_now.date()
        else:
            return None
    else:
        if not (start <= t < end):
            return None
        day = local_now.date()
    return datetime.combine(day, end, tzinfo=local_now.tzinfo)


def reminder_create(
    *,
    campaign,
    channel,
    to,
    body,
    send_at,
    idempotency_key,
    subject="",
    commitment=None,
    recipient_kind=Reminder.Recipient.PERSON,
    recipient_name="",
):
    """Write one outbox row. Call inside the transaction that made its reason.

    The same idempotency key twice returns the existing row (no second message).
    """
    reminder, created = Reminder.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults=dict(
            campaign=campaign,
            commitment=commitment,
            channel=channel,
            to=to,
            subject=subject,
            body=body,
            send_at=send_at,
            recipient_kind=recipient_kind,
            recipient_name=recipient_name,
        ),
    )
    if created and send_at <= timezone.now() + timedelta(minutes=1):
        from conversations.tasks import reminder_send

        enqueue_on_commit(reminder_send, reminder.pk)
    return reminder


def _claim(reminder_id, now):
    """Atomically move a due pending row to sending; True only for the one caller that won."""
    return (
        Reminder.objects.filter(
            pk=reminder_id, status=Reminder.Status.PENDING, send_at__lte=now
        ).update(status=Reminder.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        == 1
    )


def _finish(reminder, **fields):
    Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING).update(**fields)


def reminder_send(*, reminder_id, now=None):
    """Send one reminder if it is due and nobody else has claimed it. Safe to call twice."""
    now = now or timezone.now()
    if not _claim(reminder_id, now):
        return None
    reminder = Reminder.objects.select_related("campaign", "commitment").get(pk=reminder_id)

    if OptOut.is_opted_out(reminder.to):
        _finish(reminder, status=Reminder.Status.SUPPRESSED, last_error="Recipient opted out.")
        return Reminder.Status.SUPPRESSED
    commitment = reminder.commitment
    if commitment is not None and reminder.recipient_kind == Reminder.Recipient.PERSON:
        if commitment.status == Commitment.Status.CANCELLED:
            _finish(reminder, status=Reminder.Status.SUPPRESSED, last_error="Commitment cancelled.")
            return Reminder.Status.SUPPRESSED
        if commitment.person_id and commitment.person.do_not_contact:
            _finish(reminder, status=Reminder.Status.SUPPRESSED, last_error="Do not contact.")
            return Reminder.Status.SUPPRESSED

    local_now = now.astimezone(recipient_timezone(reminder))
    resume_at = quiet_until(reminder.campaign, local_now)
    if resume_at is not None:
        if commitment is not None and commitment.when and commitment.when <= resume_at:
            _finish(
                reminder,
                status=Reminder.Status.SUPPRESSED,
                last_error="Fell due in quiet hours and the event is over by morning.",
            )
            return Reminder.Status.SUPPRESSED
        _finish(
            reminder, status=Reminder.Status.PENDING, send_at=resume_at, attempts=F("attempts") - 1
        )
        return Reminder.Status.PENDING

    try:
        if reminder.channel == Channel.EMAIL:
            EmailMessage(reminder.subject or "A reminder", reminder.body, to=[reminder.to]).send()
            provider_id = ""
        else:
            provider_id = sms_backend().send(to=reminder.to, body=reminder.body) or ""
    except SmsOutcomeUnknown as exc:
        _finish(reminder, status=Reminder.Status.UNKNOWN, last_error=str(exc))
        return Reminder.Status.UNKNOWN
    except (SmsError, OSError) as exc:
        permanent = getattr(exc, "permanent", False) or reminder.attempts >= MAX_ATTEMPTS
        if permanent:
            _finish(reminder, status=Reminder.Status.FAILED, last_error=str(exc))
            return Reminder.Status.FAILED
        backoff = timedelta(minutes=2**reminder.attempts)
        _finish(
            reminder, status=Reminder.Status.PENDING, send_at=now + backoff, last_error=str(exc)
        )
        return Reminder.Status.PENDING
    _finish(reminder, status=Reminder.Status.SENT, sent_at=timezone.now(), provider_id=provider_id)
    return Reminder.Status.SENT


def reminders_due_ids(*, now=None, limit=1000):
    return list(Reminder.objects.due(now).order_by("send_at").values_list("pk", flat=True)[:limit])


def reminders_mark_stale(*, now=None):
    """Rows stuck in "sending" belong to a worker that died mid-send. We cannot know
    whether the provider got the message, so a person decides: status "unknown"."""
    now = now or timezone.now()
    with transaction.atomic():
        return Reminder.objects.filter(
            status=Reminder.Status.SENDING, claimed_at__lt=now - STALE_SENDING_AFTER
        ).update(status=Reminder.Status.UNKNOWN, last_error="Worker stopped during the send.")


def commitment_record(
    *,
    campaign,
    kind,
    what,
    person=None,
    visit=None,
    when=None,
    owner=None,
    channel=Channel.NONE,
    phone="",
    email="",
):
    """Record a commitment and write its follow-up plan in the same transaction.

    Raises ValidationError (nothing written) when the kind is not one of the
    campaign's, or the agreed channel has no valid phone or email to use.
    """
    errors = {}
    if kind not in campaign.commitment_kind_codes():
        errors["kind"] = f"“{kind}” is not one of this campaign's commitment kinds."
    if not what.strip():
        errors["what"] = "Say what exactly they committed to."
    try:
        phone = phone_normalize(phone, region=campaign.phone_region)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = f"“{email}” is not an email address."
    if channel == Channel.SMS and not phone and "phone" not in errors:
        errors["phone"] = "Text reminders need the phone number they agreed to."
    if channel == Channel.EMAIL and not email:
        errors["email"] = "Email reminders need the email address they agreed to."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        commitment = Commitment.objects.create(
            campaign=campaign,
            kind=kind,
            what=what.strip(),
            person=person,
            visit=visit,
            when=when,
            owner=owner,
            channel=channel,
            phone=phone,
            email=email,
        )
        commitment_plan_write(commitment=commitment)
    return commitment


def commitment_plan_write(*, commitment):
    """Write the reminders a commitment's plan calls for. Call inside its transaction."""
    to = {Channel.SMS: commitment.phone, Channel.EMAIL: commitment.email}.get(commitment.channel)
    if not to:
        return []
    name = commitment.person.first_name if commitment.person_id else ""
    sender = commitment.campaign.sender_name or commitment.campaign.name
    body = f"Hi {name}, it's {sender}: thank you for saying yes — {commitment.what}."
    if commitment.channel == Channel.SMS:
        body += " Reply STOP to opt out."
    return [
        reminder_create(
            campaign=commitment.campaign,
            commitment=commitment,
            channel=commitment.channel,
            to=to,
            body=body,
            subject="Thank you",
            send_at=timezone.now(),
            idempotency_key=f"commitment:{commitment.pk}:confirm",
            recipient_name=name,
        )
    ]
