"""Writes for conversations: visits, commitments and the reminder outbox.

How reminders are delivered once, or surfaced to a person, is in docs/reminders.md.
"""

import hashlib
import json
import logging
import re
import uuid
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from canvass.access import LEADS
from canvass.celery import enqueue_on_commit
from canvass.messaging import SmsError, SmsOutcomeUnknown, sms_backend
from canvass.models import AuditEvent, Membership
from canvass.phones import phone_normalize, phone_timezones
from conversations.models import (
    DEFAULT_MESSAGE_TEMPLATES,
    Channel,
    Commitment,
    InboundSms,
    MessageTemplate,
    OptOut,
    Reminder,
    Step,
    StoryNote,
    Visit,
    template_render,
)
from turf.models import Person, TurfStop

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Worker crashes (settings REMINDERS_STALE_CLAIM_SECONDS / _SENDING_SECONDS override these).
# Claimed but the provider never called: the gap is a few queries, so 2 minutes is plenty.
STALE_CLAIM_AFTER = timedelta(minutes=2)
# Provider called and no answer recorded: longer than any provider or SMTP timeout.
STALE_SENDING_AFTER = timedelta(minutes=10)
# A due row queued this long ago and still pending lost its message (Redis restart,
# a publish that never happened): the dispatcher queues it again.
REQUEUE_AFTER = timedelta(minutes=3)
DISPATCH_BATCH = 1000

# More than about three reminders does harm (see DESIGN.md): the cap per commitment.
MAX_PERSON_MESSAGES = 3
DEFAULT_STEPS = [
    Step.CONFIRM,
    Step.FOUR_DAYS,
    Step.DAY_BEFORE,
    Step.TWO_HOURS,
    Step.OWNER_BEFORE,
    Step.OWNER_AFTER,
]
# "Talk again": the owner calls them back; the person gets only the thank-you.
DEFAULT_KIND_STEPS = {"follow_up": [Step.CONFIRM, Step.OWNER_CALL]}
# When more person messages are ahead than the cap allows, these go first (docs/reminders.md).
DROP_ORDER = [Step.TWO_HOURS, Step.FOUR_DAYS, Step.DAY_BEFORE]
DAY_BEFORE_AT = time(11, 0)
OWNER_AT = time(9, 0)
# A dated step this close after the confirmation would repeat it: it is left out.
MIN_GAP = timedelta(hours=6)
REPLY_STEPS = [Step.REPLY_STOP, Step.REPLY_HELP, Step.REPLY_YES, Step.REPLY_NO]
# The messages that invite a YES / NO reply.
ASKING_STEPS = [Step.CONFIRM, Step.DAY_BEFORE, Step.CHANGED]


def _zone_for(*, channel, to, campaign):
    if channel == Channel.SMS:
        zones = phone_timezones(to)
        if len(zones) == 1:
            return zoneinfo.ZoneInfo(zones[0])
    return campaign.tz


def recipient_timezone(reminder):
    """The recipient's zone: their own when recorded, else from the phone number when it
    names one zone, else the campaign's."""
    if reminder.recipient_timezone:
        return zoneinfo.ZoneInfo(reminder.recipient_timezone)
    return _zone_for(channel=reminder.channel, to=reminder.to, campaign=reminder.campaign)


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
    step="",
    recipient_tz="",
):
    """Write one outbox row. Call inside the transaction that made its reason.

    The same idempotency key twice returns the existing row (no second message).
    A row due now is also published once the transaction commits; if that publish
    is lost, the every-minute dispatcher finds the row anyway.
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
            step=step,
            recipient_timezone=recipient_tz,
        ),
    )
    if created and send_at <= timezone.now() + timedelta(minutes=1):
        from conversations.tasks import reminder_send

        enqueue_on_commit(reminder_send, reminder.pk)
    return reminder


def _setting_seconds(name, default):
    return timedelta(seconds=getattr(settings, name, default.total_seconds()))


def _suppression_reason(reminder, now, *, opted_out):
    """Why this reminder must not go out at all, or ""."""
    # Carriers require STOP and HELP to be answered, whoever asks.
    replying_to_keyword = reminder.step in (Step.REPLY_STOP, Step.REPLY_HELP)
    if replying_to_keyword:
        return ""
    if opted_out:
        return "Recipient opted out."
    commitment = reminder.commitment
    if commitment is None:
        return ""
    to_person = reminder.recipient_kind == Reminder.Recipient.PERSON
    if to_person and commitment.person_id and commitment.person.do_not_contact:
        return "Do not contact."
    if reminder.step in REPLY_STEPS:
        # A reply answers a text the person has just sent; the commitment's state is moot.
        return ""
    if commitment.status != Commitment.Status.OPEN:
        return f"Commitment {commitment.get_status_display().lower()}."
    if not to_person:
        return ""
    if commitment.when and reminder.send_at < commitment.when <= now:
        return "The event had begun before the reminder could go out."
    return ""


def reminder_send(*, reminder_id, now=None):
    """Send one reminder if it is due and nobody else has claimed it. Safe to call twice.

    Returns the new status, or None when this call did not claim it (not due,
    already claimed, sent, cancelled…). See reminders_send.
    """
    return reminders_send(reminder_ids=[reminder_id], now=now).get(reminder_id)


def reminders_send(*, reminder_ids, now=None):
    """Send each of these reminders that is due and unclaimed; {id: new status} for those
    this call claimed (None for one whose claim was taken back before the call).

    Two steps before each provider call, each a conditional UPDATE committed on its
    own: the claim (pending → sending, with a fresh claim token; one UPDATE for the
    batch), then, per reminder and just before its call, the `provider_called_at`
    stamp. A row found stuck in "sending" without the stamp never reached the
    provider and goes back to pending; with it, the outcome is unknown and a person
    decides (see reminders_recover_stale). Call outside any transaction: each step
    must be committed before the next. One reminder failing unexpectedly is logged
    and left to the sweep; the others still go.
    """
    now = now or timezone.now()
    claim = uuid.uuid4().hex
    claimed = Reminder.objects.filter(
        pk__in=reminder_ids, status=Reminder.Status.PENDING, send_at__lte=now
    ).update(
        status=Reminder.Status.SENDING,
        claimed_at=now,
        claim=claim,
        provider_called_at=None,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return {}
    rows = list(
        Reminder.objects.filter(
            pk__in=reminder_ids, status=Reminder.Status.SENDING, claim=claim
        ).select_related("campaign", "commitment__person")
    )
    opted_out = set(
        OptOut.objects.filter(address__in={r.to.strip().lower() for r in rows}).values_list(
            "address", flat=True
        )
    )
    outcomes = {}
    for reminder in rows:
        try:
            outcomes[reminder.pk] = _send_claimed(
                reminder, claim=claim, now=now, opted_out=reminder.to.strip().lower() in opted_out
            )
        except Exception:
            log.exception("reminder %s: unexpected error while sending", reminder.pk)
    return outcomes


def _send_claimed(reminder, *, claim, now, opted_out):
    mine = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claim=claim)

    def finish(**fields):
        mine.update(**fields)

    reason = _suppression_reason(reminder, now, opted_out=opted_out)
    if reason:
        finish(status=Reminder.Status.SUPPRESSED, last_error=reason)
        return Reminder.Status.SUPPRESSED

    commitment = reminder.commitment
    local_now = now.astimezone(recipient_timezone(reminder))
    # Replies answer a text the person just sent: they go at once, whatever the hour.
    resume_at = None if reminder.step in REPLY_STEPS else quiet_until(reminder.campaign, local_now)
    if resume_at is not None:
        before_event = (
            commitment is not None and commitment.when and reminder.send_at < commitment.when
        )
        if before_event and commitment.when <= resume_at:
            finish(
                status=Reminder.Status.SUPPRESSED,
                last_error="Fell due in quiet hours and the event is over by morning.",
            )
            return Reminder.Status.SUPPRESSED
        # A deferral is not an attempt: it gives back the one the claim took.
        finish(status=Reminder.Status.PENDING, send_at=resume_at, attempts=F("attempts") - 1)
        return Reminder.Status.PENDING

    # Step two: committed before the call, so a crash from here on is never resent blindly.
    # The opt-out is checked again in the same statement: a STOP that arrived while this
    # batch was being sent still wins.
    stamp = mine.filter(provider_called_at__isnull=True)
    if reminder.step not in (Step.REPLY_STOP, Step.REPLY_HELP):
        stamp = stamp.filter(~Exists(OptOut.objects.filter(address=Lower(OuterRef("to")))))
    if stamp.update(provider_called_at=timezone.now()) != 1:
        if mine.filter(provider_called_at__isnull=True).exists():
            finish(status=Reminder.Status.SUPPRESSED, last_error="Recipient opted out.")
            return Reminder.Status.SUPPRESSED
        return None  # the claim was taken back by the stale sweep: someone else sends it
    try:
        if reminder.channel == Channel.EMAIL:
            EmailMessage(reminder.subject or "A reminder", reminder.body, to=[reminder.to]).send()
            provider_id = ""
        else:
            provider_id = sms_backend().send(to=reminder.to, body=reminder.body) or ""
    except (SmsOutcomeUnknown, TimeoutError) as exc:
        # A timeout may come after the provider (or the mail server) took the message.
        finish(status=Reminder.Status.UNKNOWN, last_error=str(exc) or "The provider timed out.")
        return Reminder.Status.UNKNOWN
    except (SmsError, OSError) as exc:
        permanent = getattr(exc, "permanent", False) or reminder.attempts >= MAX_ATTEMPTS
        if permanent:
            finish(status=Reminder.Status.FAILED, last_error=str(exc))
            return Reminder.Status.FAILED
        # Backoff lives in send_at, not in a Celery countdown: the row stays the outbox.
        backoff = timedelta(minutes=2**reminder.attempts)
        finish(
            status=Reminder.Status.PENDING,
            send_at=now + backoff,
            queued_at=None,
            last_error=str(exc),
        )
        return Reminder.Status.PENDING
    finish(status=Reminder.Status.SENT, sent_at=timezone.now(), provider_id=provider_id)
    return Reminder.Status.SENT


def reminders_due_ids(*, now=None, limit=1000):
    """Due pending rows, oldest first (read only: reminders_dispatch is what queues them)."""
    return list(Reminder.objects.due(now).order_by("send_at").values_list("pk", flat=True)[:limit])


def reminders_dispatch(*, now=None, limit=DISPATCH_BATCH):
    """Pick due rows not queued in the last REQUEUE_AFTER, stamp them queued, return their ids.

    The caller publishes the ids after this returns (the stamp is committed first).
    On PostgreSQL, SKIP LOCKED lets two dispatchers (two beats by mistake, or a
    manual run) split the rows instead of queuing each twice; a duplicate would be
    harmless anyway, the claim in reminder_send sees to that.
    """
    now = now or timezone.now()
    fresh = Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER)
    with transaction.atomic():
        ids = list(
            Reminder.objects.due(now)
            .filter(fresh)
            .order_by("send_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def reminders_recover_stale(*, now=None):
    """Settle rows left in "sending" by a worker that died. Returns (resent, unknown).

    No provider call recorded: the worker died between the claim and the call, so
    nothing went out; back to pending, the next dispatch sends it. Provider call
    recorded: it may or may not have gone out. We never guess (a second text is
    the worse error), so it becomes "unknown" for a person to resolve in the admin.
    """
    now = now or timezone.now()
    stuck = Reminder.objects.filter(status=Reminder.Status.SENDING)
    resent = stuck.filter(
        provider_called_at__isnull=True,
        claimed_at__lt=now - _setting_seconds("REMINDERS_STALE_CLAIM_SECONDS", STALE_CLAIM_AFTER),
    ).update(
        status=Reminder.Status.PENDING,
        claim="",
        queued_at=None,
        attempts=F("attempts") - 1,
        last_error="A worker stopped before calling the provider; sent again.",
    )
    unknown = stuck.filter(
        provider_called_at__isnull=False,
        provider_called_at__lt=now
        - _setting_seconds("REMINDERS_STALE_SENDING_SECONDS", STALE_SENDING_AFTER),
    ).update(
        status=Reminder.Status.UNKNOWN,
        last_error="A worker stopped while the provider was being called.",
    )
    return resent, unknown


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
    with transaction.atomic():
        if outcome == "sent":
            done = waiting.update(status=Reminder.Status.SENT, sent_at=now)
        else:
            done = waiting.update(
                status=Reminder.Status.PENDING,
                send_at=now,
                attempts=0,
                claim="",
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


# --- Commitments and their follow-up plans -------------------------------------


def _commitment_clean(*, campaign, kind, what, channel, phone, email):
    """Validated (what, phone, email); ValidationError naming each bad field otherwise."""
    errors = {}
    if kind not in campaign.commitment_kind_codes():
        errors["kind"] = f"“{kind}” is not one of this campaign's commitment kinds."
    if not what.strip():
        errors["what"] = "Say what exactly they committed to."
    if channel not in Channel.values:
        errors["channel"] = f"“{channel}” is not a channel: use sms, email or none."
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
    return what.strip(), phone, email


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
    what, phone, email = _commitment_clean(
        campaign=campaign, kind=kind, what=what, channel=channel, phone=phone, email=email
    )
    with transaction.atomic():
        commitment = Commitment.objects.create(
            campaign=campaign,
            kind=kind,
            what=what,
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


_UNSET = object()


def commitment_change(
    *,
    commitment,
    what=_UNSET,
    when=_UNSET,
    channel=_UNSET,
    phone=_UNSET,
    email=_UNSET,
    owner=_UNSET,
):
    """Change what, when, the agreed channel (with its phone/email) or the owner.

    Pending reminders are cancelled and a new plan is written, in one transaction;
    sent ones are never touched. A new date reopens a commitment that was missed
    or cancelled (it has been rescheduled). Raises ValidationError, changing
    nothing, on bad input.
    """
    with transaction.atomic():
        commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
        new = {
            "what": commitment.what if what is _UNSET else what,
            "channel": commitment.channel if channel is _UNSET else channel,
            "phone": commitment.phone if phone is _UNSET else phone,
            "email": commitment.email if email is _UNSET else email,
        }
        new["what"], new["phone"], new["email"] = _commitment_clean(
            campaign=commitment.campaign, kind=commitment.kind, **new
        )
        if when is not _UNSET:
            new["when"] = when
        if owner is not _UNSET:
            new["owner"] = owner
        details_changed = new["what"] != commitment.what or (
            "when" in new and new["when"] != commitment.when
        )
        if "when" in new and new["when"] != commitment.when:
            commitment.status = Commitment.Status.OPEN
            commitment.declined_at = None
        for field, value in new.items():
            setattr(commitment, field, value)
        commitment.plan_version += 1
        commitment.save()
        commitment_reminders_cancel(commitment=commitment, reason="The commitment changed.")
        commitment_plan_write(commitment=commitment, details_changed=details_changed)
    return commitment


def commitment_cancel(*, commitment, reason="Cancelled."):
    """Cancel a commitment and every pending reminder about it (sent ones stay as they are)."""
    with transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(
            status=Commitment.Status.CANCELLED, updated_at=timezone.now()
        )
        commitment_reminders_cancel(commitment=commitment, reason=reason)
    commitment.refresh_from_db()
    return commitment


def commitment_reminders_cancel(*, commitment, reason):
    """Cancel the commitment's pending reminders; returns how many.

    Only "pending" rows change: one already claimed by a worker is in flight,
    and reminder_send re-reads the commitment before the call.
    """
    return Reminder.objects.filter(commitment=commitment, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.CANCELLED, last_error=reason
    )


def when_text(moment, tz):
    """'Thursday Oct 10 at 7pm' (or 7:30pm) in `tz`: how people say a time in a text."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{local:%A %b} {local.day} at {hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def message_render(*, campaign, kind, step, channel, values):
    """(subject, body) for a step: the campaign's template for the kind, for any kind, or
    the default set. Raises KeyError when there is no wording at all for this step."""
    template = (
        MessageTemplate.objects.filter(
            campaign=campaign, step=step, channel=channel, kind__in=[kind, ""]
        )
        .order_by("-kind")
        .first()
    )
    if template is not None:
        subject, body = template.subject, template.body
    else:
        subject, body = DEFAULT_MESSAGE_TEMPLATES[(step, channel)]
    return template_render(subject, values), template_render(body, values)


def _plan_values(commitment, tz):
    campaign, person, owner = commitment.campaign, commitment.person, commitment.owner
    volunteer = commitment.visit.volunteer if commitment.visit_id else None
    canvasser = (
        (volunteer.first_name if volunteer else "")
        or (owner.first_name if owner else "")
        or "a volunteer"
    )
    try:
        # The owner's own follow-up page: one tap to mark kept, missed, rescheduled…
        path = reverse("followup_mark", args=[commitment.pk])
    except NoReverseMatch:
        path = reverse("admin:conversations_commitment_change", args=[commitment.pk])
    link = settings.SITE_URL + path
    return {
        "first_name": (person.first_name if person else "") or "there",
        "sender": campaign.sender_name or campaign.name,
        "what": commitment.what,
        "when": when_text(commitment.when, tz) if commitment.when else "",
        "canvasser": canvasser,
        "person": str(person) if person else "",
        "contact": commitment.phone or commitment.email or "no contact given",
        "link": link,
    }


def _kind_steps(commitment):
    """The plan's steps for the commitment's kind: the kind's own "steps" list when the
    campaign gives one (in Campaign.commitment_kinds), else the defaults."""
    for kind in commitment.campaign.commitment_kinds:
        if kind.get("code") == commitment.kind and kind.get("steps"):
            return [step for step in kind["steps"] if step in Step.values]
    return DEFAULT_KIND_STEPS.get(commitment.kind, DEFAULT_STEPS)


def _at_local(day, clock, tz):
    return datetime.combine(day, clock, tzinfo=tz)


def plan_person_times(*, steps, when, tz, now, budget, first_step):
    """[(step, send_at)] for the person, at most `budget` of them, in time order.

    `first_step` (confirm, thanks or changed) goes at once; the dated steps are
    dropped when already past, at or after the event, or within MIN_GAP of the
    first message (two texts in one afternoon about the same thing). When more
    remain than the budget allows, they are dropped in DROP_ORDER: see
    docs/reminders.md for why the 2-hours-before one goes first.
    """
    if when is not None and when <= now:
        return []  # it is over: nothing to remind anyone of
    plan = [(first_step, now)] if first_step else []
    if when is not None:
        local = when.astimezone(tz)
        times = {
            Step.FOUR_DAYS: _at_local(local.date() - timedelta(days=4), local.timetz(), tz),
            Step.DAY_BEFORE: _at_local(local.date() - timedelta(days=1), DAY_BEFORE_AT, tz),
            Step.TWO_HOURS: when - timedelta(hours=2),
        }
        earliest = now + MIN_GAP if first_step else now
        plan += [
            (step, at) for step, at in times.items() if step in steps and earliest <= at < when
        ]
    while len(plan) > max(budget, 0):
        droppable = [step for step in DROP_ORDER if step in dict(plan)]
        if not droppable:
            plan = plan[:budget]
            break
        plan = [(step, at) for step, at in plan if step != droppable[0]]
    return sorted(plan, key=lambda item: item[1])


def plan_owner_times(*, steps, when, tz, now):
    """[(step, send_at)] for the follow-up owner: the day before and the day after (dated),
    or a nudge the next morning (no date). Past ones are dropped."""
    plan = []
    if when is not None:
        local = when.astimezone(tz)
        if Step.OWNER_BEFORE in steps:
            plan.append(
                (Step.OWNER_BEFORE, _at_local(local.date() - timedelta(days=1), OWNER_AT, tz))
            )
        if Step.OWNER_AFTER in steps:
            plan.append(
                (Step.OWNER_AFTER, _at_local(local.date() + timedelta(days=1), OWNER_AT, tz))
            )
        if Step.OWNER_CALL in steps:
            plan.append((Step.OWNER_CALL, max(_at_local(local.date(), OWNER_AT, tz), now)))
    elif Step.OWNER_CALL in steps or Step.OWNER_AFTER in steps:
        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        plan.append((Step.OWNER_CALL, _at_local(tomorrow, OWNER_AT, tz)))
    return [(step, at) for step, at in plan if at >= now]


def commitment_plan_write(*, commitment, details_changed=False, now=None):
    """Write the reminders a commitment's plan calls for. Call inside its transaction.

    To the person: only on the channel they agreed to, never when they are
    do-not-contact or opted out, at most MAX_PERSON_MESSAGES counting any already
    sent. To the owner: email. Rewriting (after commitment_change) uses a new
    plan_version, so its idempotency keys never collide with the old plan's.
    """
    now = now or timezone.now()
    if commitment.status != Commitment.Status.OPEN:
        return []
    campaign, person = commitment.campaign, commitment.person
    steps = _kind_steps(commitment)
    written = []

    def write(*, step, send_at, channel, to, tz, recipient_kind, recipient_name):
        subject, body = message_render(
            campaign=campaign,
            kind=commitment.kind,
            step=step,
            channel=channel,
            values=_plan_values(commitment, tz),
        )
        written.append(
            reminder_create(
                campaign=campaign,
                commitment=commitment,
                channel=channel,
                to=to,
                subject=subject,
                body=body,
                send_at=send_at,
                idempotency_key=f"commitment:{commitment.pk}:v{commitment.plan_version}:{step}",
                recipient_kind=recipient_kind,
                recipient_name=recipient_name,
                step=step,
            )
        )

    to = {Channel.SMS: commitment.phone, Channel.EMAIL: commitment.email}.get(commitment.channel)
    reachable = (
        to and not (person is not None and person.do_not_contact) and not OptOut.is_opted_out(to)
    )
    if reachable:
        already = commitment.reminders.filter(
            recipient_kind=Reminder.Recipient.PERSON,
            status__in=[Reminder.Status.SENT, Reminder.Status.SENDING, Reminder.Status.UNKNOWN],
        ).count()
        if already == 0:
            first = Step.CONFIRM if commitment.when else Step.THANKS
            if first not in steps and Step.CONFIRM not in steps:
                first = None
        else:
            first = Step.CHANGED if details_changed else None
        budget = MAX_PERSON_MESSAGES - already
        if first == Step.CHANGED:
            # Telling someone the meeting moved is a correction, not one more reminder:
            # it goes even when the budget is spent, or they would go to the wrong place.
            budget = max(budget, 1)
        tz = _zone_for(channel=commitment.channel, to=to, campaign=campaign)
        for step, send_at in plan_person_times(
            steps=steps, when=commitment.when, tz=tz, now=now, budget=budget, first_step=first
        ):
            write(
                step=step,
                send_at=send_at,
                channel=commitment.channel,
                to=to,
                tz=tz,
                recipient_kind=Reminder.Recipient.PERSON,
                recipient_name=str(person) if person else "",
            )
    owner = commitment.owner
    if owner is not None and owner.email:
        for step, send_at in plan_owner_times(
            steps=steps, when=commitment.when, tz=campaign.tz, now=now
        ):
            write(
                step=step,
                send_at=send_at,
                channel=Channel.EMAIL,
                to=owner.email,
                tz=campaign.tz,
                recipient_kind=Reminder.Recipient.OWNER,
                recipient_name=owner.get_full_name() or owner.get_username(),
            )
    return written


# --- Inbound texts: opt-outs, HELP, YES / NO -------------------------------------

STOP_KEYWORDS = {"STOP", "STOPALL", "QUIT", "END", "CANCEL", "UNSUBSCRIBE", "REVOKE", "OPT OUT"}
STOP_KEYWORDS |= {"OPTOUT"}
HELP_KEYWORDS = {"HELP", "INFO"}
YES_KEYWORDS = {"YES", "Y", "YEP", "YEAH", "SI", "SÍ"}
NO_KEYWORDS = {"NO", "N", "NOPE"}


def sms_keyword(body):
    """The message as a keyword: upper case, punctuation and extra spaces gone ("opt-out!" →
    "OPT OUT"). Only a whole message counts: "stop by Tuesday?" is not an opt-out."""
    return " ".join(re.sub(r"[^\w]+", " ", body or "").upper().replace("_", " ").split())


def _reply(*, inbound, step, campaign, commitment, to):
    tz = _zone_for(channel=Channel.SMS, to=to, campaign=campaign)
    if commitment is not None:
        values = _plan_values(commitment, tz)
        kind = commitment.kind
    else:
        values = {"sender": campaign.sender_name or campaign.name, "first_name": "there"}
        kind = ""
    _subject, body = message_render(
        campaign=campaign, kind=kind, step=step, channel=Channel.SMS, values=values
    )
    return reminder_create(
        campaign=campaign,
        commitment=commitment,
        channel=Channel.SMS,
        to=to,
        body=body,
        send_at=timezone.now(),
        idempotency_key=f"reply:{inbound.provider_id}",
        step=step,
    )


def sms_inbound_handle(*, provider_id, from_number, to_number="", body=""):
    """Act on a text someone sent us; returns the InboundSms row.

    The provider's message id makes it idempotent: a webhook delivered twice is
    acted on once. Every reply goes through the outbox, like every other message.
    """
    try:
        number = phone_normalize(from_number) or from_number
    except ValidationError:
        number = from_number.strip()
    keyword = sms_keyword(body)
    now = timezone.now()
    with transaction.atomic():
        inbound, created = InboundSms.objects.get_or_create(
            provider_id=provider_id,
            defaults=dict(
                from_number=number,
                to_number=to_number,
                body=body,
                handled_as=InboundSms.Handling.OTHER,
            ),
        )
        if not created:
            return inbound
        # The campaign (and commitment) this number last heard from: who the reply is from.
        last = (
            Reminder.objects.filter(to=number, channel=Channel.SMS)
            .exclude(step__in=REPLY_STEPS)
            .select_related("campaign", "commitment")
            .order_by("-send_at", "-pk")
            .first()
        )
        campaign = last.campaign if last else None
        commitment = None
        if keyword in STOP_KEYWORDS:
            inbound.handled_as = InboundSms.Handling.OPT_OUT
            _, new = OptOut.objects.get_or_create(
                address=number, defaults=dict(campaign=campaign, keyword=keyword[:40])
            )
            Reminder.objects.filter(to=number, status=Reminder.Status.PENDING).update(
                status=Reminder.Status.SUPPRESSED, last_error=f"Opted out by text ({keyword})."
            )
            if new and campaign is not None:
                _reply(
                    inbound=inbound,
                    step=Step.REPLY_STOP,
                    campaign=campaign,
                    commitment=None,
                    to=number,
                )
        elif keyword in HELP_KEYWORDS:
            inbound.handled_as = InboundSms.Handling.HELP
            if campaign is not None:
                _reply(
                    inbound=inbound,
                    step=Step.REPLY_HELP,
                    campaign=campaign,
                    commitment=None,
                    to=number,
                )
        elif keyword in YES_KEYWORDS or keyword in NO_KEYWORDS:
            asked = (
                Reminder.objects.filter(
                    to=number,
                    channel=Channel.SMS,
                    recipient_kind=Reminder.Recipient.PERSON,
                    status=Reminder.Status.SENT,
                    commitment__status=Commitment.Status.OPEN,
                    step__in=ASKING_STEPS,
                )
                .filter(Q(commitment__when__isnull=True) | Q(commitment__when__gt=now))
                .select_related("commitment", "campaign")
                .order_by("-sent_at", "-pk")
                .first()
            )
            if asked is not None:
                commitment, campaign = asked.commitment, asked.campaign
                if keyword in YES_KEYWORDS:
                    inbound.handled_as = InboundSms.Handling.YES
                    Commitment.objects.filter(pk=commitment.pk).update(confirmed_at=now)
                    _reply(
                        inbound=inbound,
                        step=Step.REPLY_YES,
                        campaign=campaign,
                        commitment=commitment,
                        to=number,
                    )
                else:
                    inbound.handled_as = InboundSms.Handling.NO
                    Commitment.objects.filter(pk=commitment.pk).update(declined_at=now)
                    commitment_cancel(commitment=commitment, reason="They replied NO.")
                    _reply(
                        inbound=inbound,
                        step=Step.REPLY_NO,
                        campaign=campaign,
                        commitment=commitment,
                        to=number,
                    )
        inbound.campaign, inbound.commitment = campaign, commitment
        inbound.save()
    return inbound


# --- Visits from the door screen ----------------------------------------------


class VisitInvalid(ValidationError):
    """Nothing of the visit was written.

    `errors` maps the sync API's item fields to one message each; `new_person` and
    `story_note` map to such a dict, `commitments` to a list with one dict per
    commitment, in order ({} for a good one).
    """

    message_for_people = "This visit was not saved: fix the marked fields."

    def __init__(self, errors):
        super().__init__(self.message_for_people, code="invalid")
        self.errors = errors


class VisitConflict(Exception):
    """The client_id already belongs to a different visit; nothing was written."""


VISIT_CONFLICT_MESSAGE = (
    "A different visit was already saved with this client_id. Nothing was changed: "
    "record it again as a new visit if it really is another one."
)
STORY_NOTE_FIELDS = {
    "rating_before": None,
    "rating_after": None,
    "why": "",
    "themes": [],
    "story": "",
    "canvasser_shared_story": False,
    "values_feelings": "",
    "sensitive": False,
    "self_rating": None,
}
NEW_PERSON_FIELDS = {"first_name": "", "last_name": "", "phone": "", "email": ""}
COMMITMENT_FIELDS = {
    "kind": "",
    "what": "",
    "when": None,
    "owner": None,
    "channel": Channel.NONE,
    "phone": "",
    "email": "",
}


def visit_record(
    *,
    assignment,
    client_id,
    happened_at,
    outcome,
    household=None,
    person=None,
    new_person=None,
    note="",
    place="",
    story_note=None,
    commitments=(),
    volunteer=None,
):
    """Record one visit sent by a phone, with all that came of it. Returns (visit, created).

    Sending the same visit again is harmless: when `client_id` is already stored with the
    same content, the stored visit is returned with created=False and nothing is written —
    also when several copies arrive at once (the unique constraint decides, the losers
    re-read). The same client_id with different content raises VisitConflict.

    Invalid input raises VisitInvalid and leaves nothing behind: the visit, a person added
    on the spot, the story note, the commitments and their reminders are one transaction.
    `volunteer` defaults to the assignment's first volunteer.
    """
    campaign = assignment.turf.campaign
    new_person = _with_defaults(new_person, NEW_PERSON_FIELDS)
    story_note = _with_defaults(story_note, STORY_NOTE_FIELDS)
    commitments = [_with_defaults(c, COMMITMENT_FIELDS) for c in commitments]
    content_hash = visit_content_hash(
        client_id=client_id,
        happened_at=happened_at,
        outcome=outcome,
        household=household,
        person=person,
        new_person=new_person,
        note=note,
        place=place,
        story_note=story_note,
        commitments=commitments,
        volunteer=volunteer,
    )
    stored = _visit_stored(client_id=client_id, campaign=campaign, content_hash=content_hash)
    if stored is not None:
        return stored, False

    errors = _visit_errors(
        assignment=assignment,
        campaign=campaign,
        happened_at=happened_at,
        outcome=outcome,
        household=household,
        person=person,
        new_person=new_person,
        place=place,
        story_note=story_note,
        commitments=commitments,
        volunteer=volunteer,
    )
    if errors:
        raise VisitInvalid(errors)
    if volunteer is None:
        volunteer = _first_volunteer(assignment)
    try:
        with transaction.atomic():
            if new_person is not None:
                person = Person.objects.create(
                    campaign=campaign,
                    household=household,
                    first_name=new_person["first_name"].strip(),
                    last_name=new_person["last_name"].strip(),
                    phone=new_person["phone"],
                    email=new_person["email"].strip(),
                )
            visit = Visit.objects.create(
                client_id=client_id,
                campaign=campaign,
                assignment=assignment,
                household=household,
                person=person,
                volunteer=volunteer,
                outcome=outcome,
                note=note,
                place=place,
                happened_at=happened_at,
                content_hash=content_hash,
            )
            if story_note is not None:
                StoryNote.objects.create(visit=visit, **story_note)
            _visit_commitments_write(visit=visit, person=person, commitments=commitments)
    except IntegrityError:
        # Another copy of this visit was inserted between our check and our insert.
        stored = _visit_stored(client_id=client_id, campaign=campaign, content_hash=content_hash)
        if stored is None:
            raise
        return stored, False
    return visit, True


def visit_content_hash(**item):
    """SHA-256 of a visit as submitted, in a canonical form: key order, the offset a time
    is written in and objects versus their ids make no difference."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "_meta"):  # a model instance: its id is what was sent
        return value.pk
    raise TypeError(f"{type(value).__name__} has no canonical form")


def _with_defaults(given, defaults):
    if given is None:
        return None
    unknown = set(given) - set(defaults)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    return {**defaults, **given}


def _visit_stored(*, client_id, campaign, content_hash):
    """The visit already stored under `client_id` if it is this same visit; None if none."""
    stored = Visit.objects.filter(client_id=client_id).first()
    if stored is None:
        return None
    # Another campaign's visit is a conflict too, and says nothing about that visit.
    if stored.campaign_id != campaign.pk or stored.content_hash != content_hash:
        raise VisitConflict(VISIT_CONFLICT_MESSAGE)
    return stored


def _first_volunteer(assignment):
    # In the volunteers' own order (by name), as the bundle lists them; .all() so that
    # volunteers prefetched with the assignment cost no query per visit.
    return next(iter(assignment.volunteers.all()), None)


def _visit_errors(
    *,
    assignment,
    campaign,
    happened_at,
    outcome,
    household,
    person,
    new_person,
    place,
    story_note,
    commitments,
    volunteer,
):
    """Everything wrong with a visit that can be known before writing it, by item field."""
    errors = {}
    conversation = outcome == Visit.Outcome.CONVERSATION
    if outcome not in Visit.Outcome.values:
        errors["outcome"] = f"“{outcome}” is not an outcome."
    if timezone.is_naive(happened_at):
        errors["happened_at"] = "Give the time with its offset, e.g. 2024-10-05T14:03:00-05:00."
    if household is not None:
        if not TurfStop.objects.filter(turf_id=assignment.turf_id, household=household).exists():
            errors["household_id"] = "This door is not on your walk list."
        elif place:
            errors["place"] = (
                "A place is only for a conversation away from the walk list; "
                "leave it empty for a door."
            )
    elif not conversation:
        errors["household_id"] = (
            "Choose the door: only a conversation can be recorded away from the walk list."
        )
    if person is not None and new_person is not None:
        errors["new_person"] = "Pick someone on the list or add a new person, not both."
    elif person is not None:
        if person.campaign_id != campaign.pk:
            errors["person_id"] = "This person is not on your campaign's list."
        elif household is not None and person.household_id != household.pk:
            errors["person_id"] = (
                "This person is not listed at this door. Add them as a new person instead."
            )
    elif new_person is not None:
        person_errors = _new_person_errors(new_person, campaign=campaign)
        if person_errors:
            errors["new_person"] = person_errors
    # .all() so that volunteers prefetched with the assignment cost no query per visit.
    if volunteer is not None and volunteer not in assignment.volunteers.all():
        errors["volunteer_id"] = "This volunteer is not on this assignment."
    if story_note is not None:
        if not conversation:
            errors["story_note"] = "Only a conversation has a story note."
        else:
            note_errors = _story_note_errors(story_note, campaign=campaign)
            if note_errors:
                errors["story_note"] = note_errors
    if commitments:
        if not conversation:
            errors["commitments"] = "Only a conversation has commitments."
        else:
            owner_errors = _owner_errors(commitments, campaign=campaign)
            if any(owner_errors):
                errors["commitments"] = owner_errors
    return errors


def _new_person_errors(new_person, *, campaign):
    """Checks a person added on the spot, normalising their phone in place."""
    errors = {}
    if not new_person["first_name"].strip():
        errors["first_name"] = "Give at least a first name."
    try:
        new_person["phone"] = phone_normalize(new_person["phone"], region=campaign.phone_region)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    email = new_person["email"].strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = f"“{email}” is not an email address."
    return errors


def _story_note_errors(story_note, *, campaign):
    errors = {}
    for field in ("rating_before", "rating_after", "self_rating"):
        value = story_note[field]
        if value is not None and not 0 <= value <= 10:
            errors[field] = "Give a number from 0 to 10, or leave it empty."
    unknown = [theme for theme in story_note["themes"] if theme not in campaign.story_themes]
    if unknown:
        errors["themes"] = f"“{unknown[0]}” is not one of this campaign's story themes."
    return errors


def _owner_errors(commitments, *, campaign):
    owner_ids = {c["owner"].pk for c in commitments if c["owner"] is not None}
    leads = set(
        Membership.objects.filter(
            campaign=campaign, user_id__in=owner_ids, role__in=LEADS
        ).values_list("user_id", flat=True)
    )
    return [
        {"owner_id": "Choose one of this campaign's organizers or field leads."}
        if c["owner"] is not None and c["owner"].pk not in leads
        else {}
        for c in commitments
    ]


def _visit_commitments_write(*, visit, person, commitments):
    """Record each commitment through commitment_record. Call inside the visit's transaction:
    any invalid commitment raises VisitInvalid, which rolls the whole visit back."""
    errors = []
    for commitment in commitments:
        try:
            commitment_record(campaign=visit.campaign, person=person, visit=visit, **commitment)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors.append({field: " ".join(msgs) for field, msgs in exc.message_dict.items()})
            else:
                errors.append({"non_field_errors": " ".join(exc.messages)})
        else:
            errors.append({})
    if any(errors):
        raise VisitInvalid({"commitments": errors})
