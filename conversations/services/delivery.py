"""Delivery: the reminder outbox, claimed row by row and sent at most once.

How a reminder is delivered once, or surfaced to a person, is in docs/reminders.md.
"""

import hashlib
import logging
import re
import uuid
import zoneinfo
from datetime import datetime, time, timedelta

import tzfpy
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from canvass.celery import enqueue_on_commit
from canvass.messaging import NotSent, email_send, sms_backend
from canvass.models import AuditEvent
from canvass.phones import phone_timezones
from conversations.models import (
    DAY_CAP_HELD,
    Channel,
    Commitment,
    OptOut,
    Reminder,
    Step,
)

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

# Replies answer a text the person just sent: no plan, no quiet hours.
REPLY_STEPS = [Step.REPLY_STOP, Step.REPLY_HELP, Step.REPLY_YES, Step.REPLY_NO]

# More than about three reminders does harm (see DESIGN.md): the cap per person per
# commitment, counting every message (plan steps, change notices, replies).
MAX_PERSON_MESSAGES = 3
# Two messages about the same thing this close together repeat each other: a dated
# reminder this soon after the previous message waits (or is left out).
MIN_GAP = timedelta(hours=6)
DATED_STEPS = [Step.FOUR_DAYS, Step.DAY_BEFORE, Step.TWO_HOURS]
# The most messages one person gets in a day of theirs, across every commitment, signup and
# link (settings.REMINDERS_PER_PERSON_PER_DAY overrides it). Held where the row is stamped,
# under a lock per recipient, so concurrent workers cannot pass it either.
PER_PERSON_PER_DAY = 3
# Carriers require STOP and HELP to be answered: the daily cap never holds them.
ALWAYS_ANSWERED = [Step.REPLY_STOP, Step.REPLY_HELP]
CAP_LEFT_OUT = (
    f"Left out: they would have had more than {MAX_PERSON_MESSAGES} messages about this "
    "commitment. Reach them another way if they need it."
)


def _delivered(queryset):
    """Rows that may have reached their recipient: sent, unknown (replaced or not), or
    handed to the provider and not yet answered (a claimed row not yet stamped has not gone)."""
    return queryset.filter(
        Q(status__in=[Reminder.Status.SENT, Reminder.Status.UNKNOWN, Reminder.Status.REPLACED])
        | Q(status=Reminder.Status.SENDING, provider_called_at__isnull=False)
    )


def person_messages_count(commitment):
    """How many messages the person may have had about this commitment: every one sent,
    being sent or unknown, plan steps, change notices and replies alike."""
    return _delivered(commitment.reminders.filter(recipient_kind=Reminder.Recipient.PERSON)).count()


def _zone_for(*, channel, to, campaign, person=None):
    """The zone to write a message's times in: the person's own (given or located), else
    the number's when it has only one, else the campaign's."""
    known = person_timezone(person)
    if known is not None:
        return known
    if channel == Channel.SMS:
        zones = phone_timezones(to)
        if len(zones) == 1:
            return zoneinfo.ZoneInfo(zones[0])
    return campaign.tz


def _zone(name):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def household_timezone(household):
    """The zone of a located household (from its coordinates), or None."""
    if household is None or household.lat is None or household.lng is None:
        return None
    return _zone(tzfpy.get_tz(household.lng, household.lat))


def person_timezone(person):
    """The zone a person lives in, best known first: the one they gave (Person.timezone),
    else their household's when located; None when neither is known."""
    if person is None:
        return None
    return _zone(person.timezone) or household_timezone(person.household)


def recipient_timezones(reminder):
    """The zones the recipient may be in, best known first: their own when recorded (an
    owner's profile), the zone the person gave, the person's household when located, else
    every zone phonenumbers names for the number (an Alaska number may be in Anchorage or
    Adak), else the campaign's. Quiet hours must hold in all of them."""
    own = _zone(reminder.recipient_timezone)
    if own is not None:
        return [own]
    commitment = reminder.commitment
    if (
        reminder.recipient_kind == Reminder.Recipient.PERSON
        and commitment is not None
        and commitment.person_id
    ):
        known = person_timezone(commitment.person)
        if known is not None:
            return [known]
    if reminder.channel == Channel.SMS:
        zones = [zone for zone in map(_zone, phone_timezones(reminder.to)) if zone is not None]
        if zones:
            return zones
    return [reminder.campaign.tz]


def recipient_timezone(reminder):
    """The recipient's most likely zone (the first of recipient_timezones)."""
    return recipient_timezones(reminder)[0]


def quiet_until_everywhere(campaign, now, zones):
    """If `now` is in quiet hours in any of `zones`, the first moment after it that is
    outside them in every zone; else None. Zones too far apart to share a waking hour
    (never the case for one number's zones) fall back to the first zone's morning."""
    moment = now
    for _ in range(2 * len(zones) + 2):
        ends = [
            end
            for end in (quiet_until(campaign, moment.astimezone(zone)) for zone in zones)
            if end is not None
        ]
        if not ends:
            return None if moment == now else moment
        moment = max(ends)
    return quiet_until(campaign, now.astimezone(zones[0]))


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


def _fit(text, field):
    """`text` cut to the column's length: a subject or a name built from a long "what"
    or long names must not fail the commitment it belongs to."""
    limit = Reminder._meta.get_field(field).max_length
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    signup=None,
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
            signup=signup,
            channel=channel,
            to=to,
            subject=_fit(subject, "subject"),
            body=body,
            send_at=send_at,
            recipient_kind=recipient_kind,
            recipient_name=_fit(recipient_name, "recipient_name"),
            step=step,
            recipient_timezone=recipient_tz,
        ),
    )
    if created and send_at <= timezone.now() + timedelta(minutes=1):
        # By name: services never import tasks (tasks import services).
        enqueue_on_commit("conversations.tasks.reminder_send", reminder.pk)
    return reminder


_PLAN_KEY = re.compile(r"^commitment:\d+:v(\d+):")


def reminder_plan_version(reminder):
    """The plan_version of the commitment's plan this row belongs to (from its idempotency
    key, commitment:<id>:v<version>:<step>), or None for a row outside any plan (a reply,
    a digest, a row written by hand)."""
    match = _PLAN_KEY.match(reminder.idempotency_key or "")
    return int(match.group(1)) if match else None


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
        return _shift_reminder_hold(reminder, now)
    to_person = reminder.recipient_kind == Reminder.Recipient.PERSON
    if to_person and commitment.person_id and commitment.person.do_not_contact:
        return "Do not contact."
    if reminder.step in REPLY_STEPS:
        # A reply answers a text the person has just sent; the commitment's state is moot.
        return ""
    if commitment.status != Commitment.Status.OPEN:
        return f"Commitment {commitment.get_status_display().lower()}."
    version = reminder_plan_version(reminder)
    if version is not None and version != commitment.plan_version:
        return "The commitment changed: a newer plan replaces this message."
    if not to_person:
        return ""
    if commitment.when and reminder.send_at < commitment.when <= now:
        return "The event had begun before the reminder could go out."
    return ""


def _shift_reminder_hold(reminder, now):
    """Why a shift signup's message must not go out (re-read now), or "": the rules are
    the signup's own, in canvass/services/notify.py."""
    if reminder.signup_id is None:
        return ""
    from canvass.services.notify import signup_reminder_hold

    return signup_reminder_hold(reminder=reminder, now=now)


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
    given_now, now = now, now or timezone.now()
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
        ).order_by("send_at", "pk")
    )
    outcomes = {}
    for reminder in rows:
        try:
            # The clock is read again for each row (unless the caller fixed it): a batch
            # claimed at 20:59:45 must not send its last rows after 21:00.
            outcomes[reminder.pk] = _send_claimed(reminder, claim=claim, now=given_now)
        except Exception:
            log.exception("reminder %s: unexpected error while sending", reminder.pk)
    return outcomes


def _still_sendable(reminder):
    """The conditions, as SQL on the reminder row, that must still hold when the provider
    is called: not opted out, the commitment still open, the person not do-not-contact.
    They are part of the stamp's UPDATE, so nothing that lands after the last read (a
    cancel, a NO, a kept mark, a STOP) can slip between the check and the call."""
    conditions = Q()
    if reminder.step in (Step.REPLY_STOP, Step.REPLY_HELP):
        return conditions  # carriers require them to be answered, whoever asks
    conditions &= ~Exists(OptOut.objects.filter(address=Lower(OuterRef("to"))))
    if reminder.commitment_id is None:
        return conditions
    if reminder.recipient_kind == Reminder.Recipient.PERSON:
        conditions &= ~Exists(
            Commitment.objects.filter(pk=OuterRef("commitment_id"), person__do_not_contact=True)
        )
    if reminder.step not in REPLY_STEPS:
        current = Commitment.objects.filter(
            pk=OuterRef("commitment_id"), status=Commitment.Status.OPEN
        )
        version = reminder_plan_version(reminder)
        if version is not None:
            current = current.filter(plan_version=version)
        conditions &= Exists(current)
    return conditions


def _send_claimed(reminder, *, claim, now=None):
    """Check, stamp and send one claimed reminder. Everything that can change is read
    again here, just before the provider call: the row, its commitment and person, the
    opt-out list and the clock."""
    mine = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claim=claim)
    reminder = mine.select_related("campaign", "commitment__person__household").first()
    if reminder is None:
        return None  # the claim was taken back by the stale sweep: someone else sends it
    now = now or timezone.now()

    def finish(**fields):
        return mine.update(**fields)

    opted_out = OptOut.is_opted_out(reminder.to)
    reason = _suppression_reason(reminder, now, opted_out=opted_out)
    if reason:
        finish(status=Reminder.Status.SUPPRESSED, last_error=reason)
        return Reminder.Status.SUPPRESSED

    commitment = reminder.commitment
    # Replies answer a text the person just sent: they go at once, whatever the hour.
    resume_at = (
        None
        if reminder.step in REPLY_STEPS
        else quiet_until_everywhere(reminder.campaign, now, recipient_timezones(reminder))
    )
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
    # The same statement checks again what may have changed since the row was read.
    stamp = mine.filter(provider_called_at__isnull=True).filter(_still_sendable(reminder))
    to_person = (
        reminder.recipient_kind == Reminder.Recipient.PERSON
        and reminder.step not in ALWAYS_ANSWERED
    )
    capped = to_person and reminder.commitment_id is not None
    if to_person:
        with transaction.atomic():
            # One stamp at a time per recipient, then per commitment (always in this order):
            # two workers cannot both take the last place of the day or of the commitment.
            _recipient_lock(reminder.to)
            if capped:
                list(
                    Commitment.objects.select_for_update()
                    .filter(pk=reminder.commitment_id)
                    .values_list("pk", flat=True)
                )
                held = _cap_or_gap(reminder, now=now, finish=finish)
                if held is not None:
                    return held
            held = _day_cap_hold(reminder, now=now, finish=finish)
            if held is not None:
                return held
            stamped = stamp.update(provider_called_at=timezone.now())
    else:
        stamped = stamp.update(provider_called_at=timezone.now())
    if stamped != 1:
        fresh = mine.filter(provider_called_at__isnull=True).select_related(
            "campaign", "commitment__person"
        )
        fresh = fresh.first()
        if fresh is None:
            return None  # the claim was taken back by the stale sweep: someone else sends it
        reason = _suppression_reason(fresh, now, opted_out=OptOut.is_opted_out(fresh.to))
        finish(
            status=Reminder.Status.SUPPRESSED,
            last_error=reason or "Changed just before it was sent.",
        )
        return Reminder.Status.SUPPRESSED
    try:
        provider_id = _provider_call(reminder)
    except NotSent as exc:
        # Provably never left this machine, or the provider said it did not take it.
        permanent = exc.permanent or reminder.attempts >= MAX_ATTEMPTS
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
    except Exception as exc:
        # Anything else happened after the request went out (OutcomeUnknown, a timeout, a
        # reset, a bug in a backend): the provider may have it. A person decides.
        log.warning("reminder %s: outcome unknown: %r", reminder.pk, exc)
        finish(
            status=Reminder.Status.UNKNOWN,
            last_error=str(exc) or f"{type(exc).__name__} during the provider call.",
        )
        return Reminder.Status.UNKNOWN
    sent = dict(status=Reminder.Status.SENT, sent_at=timezone.now(), provider_id=provider_id)
    if not finish(**sent):
        # A call slower than the stale window: the sweep marked the row unknown (or a person
        # asked to send it again and it has not gone yet). The provider has now said it took
        # the message, so that settles it, while the claim is still this call's.
        Reminder.objects.filter(
            pk=reminder.pk,
            claim=claim,
            status__in=[Reminder.Status.UNKNOWN, Reminder.Status.PENDING],
        ).update(
            **sent,
            last_error="Marked unknown while the provider was slow to answer; it then confirmed.",
        )
    return Reminder.Status.SENT


def per_person_per_day():
    """The daily cap in force (settings.REMINDERS_PER_PERSON_PER_DAY, else the default)."""
    return getattr(settings, "REMINDERS_PER_PERSON_PER_DAY", PER_PERSON_PER_DAY)


def _recipient_lock(address):
    """Serialise the stamps of messages to one address until the transaction ends (call
    inside one). A PostgreSQL advisory lock keyed by the normalised address; SQLite lets
    one writer in at a time anyway."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(address.strip().lower().encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def _local_day(now, zone):
    """The start of the local day `now` falls in, and of the next one, in `zone`."""
    day = now.astimezone(zone).date()
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )


def recipient_messages_on_day(*, to, now, zone, exclude_pk=None):
    """How many messages the person at `to` (a phone number or an email, any case) may
    have had on the local day of `now` in `zone`, whatever they were about."""
    start, end = _local_day(now, zone)
    rows = _delivered(
        Reminder.objects.alias(to_lower=Lower("to")).filter(
            to_lower=to.strip().lower(), recipient_kind=Reminder.Recipient.PERSON
        )
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return (
        rows.alias(at=Coalesce("sent_at", "provider_called_at"))
        .filter(at__gte=start, at__lt=end)
        .count()
    )


def _day_cap_hold(reminder, *, now, finish):
    """Hold back a message that would give its recipient more than the daily cap: moved to
    the next morning of theirs (still pending, with why), or left out when the event is
    over by then. The new status, or None when it may go. Call with the recipient locked."""
    cap = per_person_per_day()
    zone = recipient_timezones(reminder)[0]
    had = recipient_messages_on_day(to=reminder.to, now=now, zone=zone, exclude_pk=reminder.pk)
    if had < cap:
        return None
    _today, tomorrow = _local_day(now, zone)
    resume = datetime.combine(tomorrow.date(), reminder.campaign.quiet_hours_end, tzinfo=zone)
    resume = max(resume, tomorrow)
    commitment = reminder.commitment
    if commitment is not None and commitment.when and reminder.send_at < commitment.when <= resume:
        finish(
            status=Reminder.Status.SUPPRESSED,
            last_error=f"Left out by the daily cap: they had {had} messages today (at most "
            f"{cap} a day), and the event begins before tomorrow's first hour.",
        )
        return Reminder.Status.SUPPRESSED
    finish(
        status=Reminder.Status.PENDING,
        send_at=resume,
        queued_at=None,
        attempts=F("attempts") - 1,
        last_error=f"{DAY_CAP_HELD}: they had {had} messages today (at most {cap} a day); "
        f"it goes {resume:%a %b %-d at %H:%M} their time.",
    )
    return Reminder.Status.PENDING


def _cap_or_gap(reminder, *, now, finish):
    """Hold back a message to the person that would break the cap or the minimum gap: the
    new status, or None when it may go. Call with the commitment's row locked."""
    others = _delivered(
        Reminder.objects.filter(
            commitment_id=reminder.commitment_id, recipient_kind=Reminder.Recipient.PERSON
        ).exclude(pk=reminder.pk)
    )
    if others.count() >= MAX_PERSON_MESSAGES:
        finish(status=Reminder.Status.SUPPRESSED, last_error=CAP_LEFT_OUT)
        return Reminder.Status.SUPPRESSED
    if reminder.step not in DATED_STEPS:
        return None
    last = (
        others.exclude(step__in=REPLY_STEPS)
        .annotate(at=Coalesce("sent_at", "provider_called_at"))
        .aggregate(last=Max("at"))["last"]
    )
    if last is None or now - last >= MIN_GAP:
        return None
    # The previous message went late (quiet hours moved it to the morning): keep the gap.
    resume = last + MIN_GAP
    when = reminder.commitment.when
    if when is not None and resume >= when:
        finish(
            status=Reminder.Status.SUPPRESSED,
            last_error="Left out: too soon after the previous message, and the event begins "
            "before 6 hours have passed.",
        )
        return Reminder.Status.SUPPRESSED
    finish(
        status=Reminder.Status.PENDING,
        send_at=resume,
        queued_at=None,
        attempts=F("attempts") - 1,
    )
    return Reminder.Status.PENDING


def _provider_call(reminder):
    """Hand the reminder to its provider; the provider's message id ("" when none).

    Raises NotSent only when the message provably never left (see canvass.messaging);
    anything else it raises means the outcome is unknown.
    """
    if reminder.channel == Channel.EMAIL:
        email_send(
            to=reminder.to,
            subject=reminder.subject or "A reminder",
            body=reminder.body,
            idempotency_key=reminder.idempotency_key,
        )
        return ""
    backend = sms_backend()
    return (
        backend.send(to=reminder.to, body=reminder.body, idempotency_key=reminder.idempotency_key)
        or ""
    )


def reminders_due_ids(*, now=None, limit=1000):
    """Due pending rows, oldest first (read only: reminders_dispatch is what queues them)."""
    return list(
        Reminder.objects.due(now).order_by("send_at", "pk").values_list("pk", flat=True)[:limit]
    )


def reminders_dispatch(*, now=None, limit=None):
    """Pick due rows not queued in the last REQUEUE_AFTER, stamp them queued, return their ids.

    The caller publishes the ids after this returns (the stamp is committed first).
    On PostgreSQL, SKIP LOCKED lets two dispatchers (two beats by mistake, or a
    manual run) split the rows instead of queuing each twice; a duplicate would be
    harmless anyway, the claim in reminder_send sees to that.
    """
    now = now or timezone.now()
    limit = limit or DISPATCH_BATCH
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


def deadline_check(app_configs=None, **kwargs):
    """System check: a provider call's whole deadline must end well inside the stale
    window, or the sweep marks live calls unknown (a late success still settles them, but
    the row shows as "needs a person" meanwhile)."""
    from django.core.checks import Warning

    stale = _setting_seconds("REMINDERS_STALE_SENDING_SECONDS", STALE_SENDING_AFTER)
    problems = []
    for name in ("SMS_TIMEOUT", "EMAIL_TIMEOUT"):
        seconds = getattr(settings, name, None)
        if seconds is not None and timedelta(seconds=seconds) >= stale:
            problems.append(
                Warning(
                    f"{name} ({seconds} s) is not shorter than REMINDERS_STALE_SENDING_SECONDS "
                    f"({stale.total_seconds():g} s).",
                    hint=f"Lower {name} or raise REMINDERS_STALE_SENDING_SECONDS: a call "
                    "must end before the sweep gives up on it.",
                    id="conversations.W001",
                )
            )
    return problems
