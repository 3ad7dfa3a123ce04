"""Telling a volunteer what happened to their signup, and reminding them of the shift.

Every write that a volunteer should hear about calls `signup_notify` inside its own
transaction; callers look it up on this module (`notify.signup_notify(...)`), so there is
exactly one function to change. What it writes goes into the same outbox as commitment
follow-ups (`conversations.services.reminder_create`): the same quiet hours, opt-outs,
claim-once delivery and per-campaign templates (docs/shifts.md, docs/reminders.md).
"""

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from canvass.models import EXPECTED, ShiftSignup
from canvass.services.links import signup_link, signup_link_token
from conversations.models import Channel, OptOut, Reminder, Step
from conversations.services.delivery import REPLY_STEPS, _zone_for, reminder_create
from conversations.services.plans import DAY_BEFORE_AT, MIN_GAP, message_render, when_text

Status = ShiftSignup.Status


class SignupEvent(models.TextChoices):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    # Given up for another shift (signup_move): the new signup is told SIGNED_UP or WAITLISTED.
    MOVED = "moved"
    CHANGED = "changed"
    SHIFT_MOVED = "shift_moved"
    SHIFT_CANCELLED = "shift_cancelled"


# The cadence volunteers know from other tools (docs/shifts.md).
MORNING_AT = time(8, 0)
SOON_BEFORE = timedelta(minutes=30)
THANKS_AFTER = timedelta(hours=1)
# What each event says at once; None: nothing at once.
FIRST_STEP = {
    SignupEvent.SIGNED_UP: Step.SHIFT_CONFIRM,
    SignupEvent.WAITLISTED: Step.SHIFT_WAITLIST,
    SignupEvent.PROMOTED: Step.SHIFT_PROMOTED,
    SignupEvent.SHIFT_MOVED: Step.SHIFT_MOVED,
    SignupEvent.SHIFT_CANCELLED: Step.SHIFT_CANCELLED,
}
# A correction that would send them to the wrong place (or to a shift that is off) goes
# by email when they ticked no reminders but gave an address.
CORRECTIONS = (Step.SHIFT_MOVED, Step.SHIFT_CANCELLED)
# The texts that ask for a YES / NO reply (conversations/services/inbound.py acts on it).
ASKING_STEPS = (Step.SHIFT_DAY_BEFORE, Step.SHIFT_PROMOTED, Step.SHIFT_MOVED)
# Statuses a reminder before the shift is for.
ON_THE_SHIFT = (Status.SIGNED_UP, Status.CONFIRMED)


def shift_when_text(moment, tz):
    """When a shift is, in `tz` and the active language ('Saturday Dec 5 at 10am')."""
    return when_text(moment, tz)


def _values(signup, *, step):
    shift = signup.shift
    campaign = shift.campaign
    if step == Step.SHIFT_CANCELLED:
        link = settings.SITE_URL + reverse("signup_page", args=[campaign.slug])
    else:
        token = signup_link_token(signup)
        link = signup_link(token) if token else ""
    return {
        "first_name": signup.volunteer.first_name or _("there"),
        "sender": campaign.sender_name or campaign.name,
        "what": shift.name or _("the canvass"),
        # The shift happens where the campaign is: its time is said in the campaign's zone.
        "when": shift_when_text(shift.starts_at, campaign.tz),
        "place": shift.place or _("the place on your signup page"),
        "link": link,
    }


def _render(signup, *, step, channel):
    """(subject, body) in the volunteer's language: the campaign's template, else the
    default wording translated."""
    with translation.override(signup.volunteer.language or settings.LANGUAGE_CODE):
        return message_render(
            campaign=signup.shift.campaign,
            kind="",
            step=step,
            channel=channel,
            values=_values(signup, step=step),
        )


def _recipient_zone(signup, channel, to):
    if signup.volunteer.timezone:
        return zoneinfo.ZoneInfo(signup.volunteer.timezone)
    return _zone_for(channel=channel, to=to, campaign=signup.shift.campaign)


def _channels(signup, *, correction=False):
    """[(channel, address)] they agreed to be reminded on, without opted-out addresses."""
    volunteer = signup.volunteer
    agreed = []
    if signup.remind_by_sms and volunteer.phone:
        agreed.append((Channel.SMS, volunteer.phone))
    if signup.remind_by_email and volunteer.email:
        agreed.append((Channel.EMAIL, volunteer.email))
    if not agreed and correction and volunteer.email:
        agreed.append((Channel.EMAIL, volunteer.email))
    return [(channel, to) for channel, to in agreed if not OptOut.is_opted_out(to)]


def signup_plan_times(*, channel, starts_at, ends_at, tz, now, first_sent, thanks=True):
    """[(step, send_at)] of the reminders on one channel, in time order.

    The day before at 11:00 (text and email, asking YES / NO), the morning of at 08:00
    (email), 30 minutes before (text, with the staging address), and an hour after the
    end a thank-you (`thanks`: on one channel only). Local times are in `tz`, the
    recipient's. A step already past, at or after the start, or (day before, morning)
    within MIN_GAP of a message sent just now is left out; so is the 30-minutes one
    within 30 minutes of it.
    """
    if starts_at <= now:
        steps = []
    else:
        day = starts_at.astimezone(tz).date()
        wanted = {
            Channel.SMS: [(Step.SHIFT_DAY_BEFORE, day - timedelta(days=1), DAY_BEFORE_AT)],
            Channel.EMAIL: [
                (Step.SHIFT_DAY_BEFORE, day - timedelta(days=1), DAY_BEFORE_AT),
                (Step.SHIFT_MORNING, day, MORNING_AT),
            ],
        }[channel]
        earliest = now + MIN_GAP if first_sent else now
        steps = [
            (step, at)
            for step, on, clock in wanted
            if earliest <= (at := datetime.combine(on, clock, tzinfo=tz)) < starts_at
        ]
        soon = starts_at - SOON_BEFORE
        if channel == Channel.SMS and (now + SOON_BEFORE if first_sent else now) <= soon:
            steps.append((Step.SHIFT_SOON, soon))
    if thanks and ends_at > now:
        steps.append((Step.SHIFT_THANKS, ends_at + THANKS_AFTER))
    return sorted(steps, key=lambda item: item[1])


def _pending_cancel(signup, *, reason):
    return (
        Reminder.objects.filter(signup=signup, status=Reminder.Status.PENDING)
        .exclude(step__in=REPLY_STEPS)
        .update(status=Reminder.Status.CANCELLED, last_error=reason)
    )


def signup_notify(*, signup, event, now=None):
    """Tell the volunteer what just happened to their signup (`event`, a SignupEvent), and
    rewrite their shift reminders. Returns the reminders written.

    Every pending message about the signup is cancelled first (sent ones are never
    touched); then the event's own message goes at once (a confirmation, a waitlist
    place, a spot that opened, a moved or cancelled shift), and a signup holding a spot
    gets its reminder plan (signup_plan_times), on the channels they agreed to, never to
    an opted-out address. A cancellation, a move to another shift and a cancelled shift
    leave no reminders. Idempotency keys carry the signup's plan_version, which every
    caller bumps when what a reminder says changes. Call inside the transaction that
    made the change, so whatever it writes commits with it.
    """
    now = now or timezone.now()
    signup = ShiftSignup.objects.select_related("shift__campaign", "volunteer").get(pk=signup.pk)
    shift = signup.shift
    _pending_cancel(signup, reason=f"The signup changed ({event}).")
    if shift.ends_at <= now or event in (SignupEvent.CANCELLED, SignupEvent.MOVED):
        return []
    first = FIRST_STEP.get(event)
    if first == Step.SHIFT_CONFIRM and signup.status not in ON_THE_SHIFT:
        first = None  # a walk-in checked in on the spot needs no confirmation
    planned = signup.holds_spot and event != SignupEvent.SHIFT_CANCELLED
    channels = _channels(signup, correction=first in CORRECTIONS)
    written = []

    def write(step, channel, to, send_at, tz):
        subject, body = _render(signup, step=step, channel=channel)
        written.append(
            reminder_create(
                campaign=shift.campaign,
                signup=signup,
                channel=channel,
                to=to,
                subject=subject,
                body=body,
                send_at=send_at,
                idempotency_key=f"signup:{signup.pk}:v{signup.plan_version}:{step}:{channel}",
                recipient_name=str(signup.volunteer),
                recipient_tz=signup.volunteer.timezone,
                step=step,
            )
        )

    # One thank-you: by email when they gave one, else by text.
    thanks_channel = next(
        (c for c, _to in channels if c == Channel.EMAIL), channels[0][0] if channels else None
    )
    for channel, to in channels:
        tz = _recipient_zone(signup, channel, to)
        if first is not None:
            write(first, channel, to, now, tz)
        if not planned:
            continue
        for step, send_at in signup_plan_times(
            channel=channel,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            tz=tz,
            now=now,
            first_sent=first is not None,
            thanks=channel == thanks_channel,
        ):
            write(step, channel, to, send_at, tz)
    return written


def _key_version(key):
    """The plan_version in a signup reminder's idempotency key (signup:<pk>:v<n>:…)."""
    parts = key.split(":")
    if len(parts) > 2 and parts[0] == "signup" and parts[2][1:].isdigit():
        return int(parts[2][1:])
    return None


def signup_reminder_hold(*, reminder, now):
    """Why this signup's message must not go out, re-read just before sending, or "".

    Called by the outbox's delivery for every row with a signup: a message from an older
    plan, about a cancelled shift (but the notice that it is cancelled), a reminder for
    someone no longer on the shift or already checked in, one that could only go out
    once the shift had begun, and a thank-you to someone who never checked in."""
    signup = ShiftSignup.objects.select_related("shift").get(pk=reminder.signup_id)
    shift, step = signup.shift, reminder.step
    if step in REPLY_STEPS:
        return ""  # a reply answers a text they have just sent
    version = _key_version(reminder.idempotency_key)
    if version is not None and version != signup.plan_version:
        return "An older plan: the signup's reminders were rewritten since."
    if step == Step.SHIFT_CANCELLED:
        return ""
    if shift.is_cancelled:
        return "The shift was cancelled."
    if step == Step.SHIFT_THANKS:
        return "" if signup.status == Status.ATTENDED else "They did not check in at the shift."
    wanted = {Step.SHIFT_WAITLIST: (Status.WAITLISTED,), Step.SHIFT_MOVED: EXPECTED}
    if signup.status not in wanted.get(step, ON_THE_SHIFT):
        return f"The signup is {signup.get_status_display().lower()}."
    if shift.starts_at <= now:
        return "The shift had begun before the message could go out."
    return ""


def signup_asked_reminder(*, to, now):
    """The last YES / NO question sent to `to` about a signup still to come, or None."""
    return (
        Reminder.objects.filter(
            to=to,
            channel=Channel.SMS,
            recipient_kind=Reminder.Recipient.PERSON,
            status=Reminder.Status.SENT,
            step__in=ASKING_STEPS,
            signup__status__in=ON_THE_SHIFT,
            signup__shift__cancelled_at__isnull=True,
            signup__shift__starts_at__gt=now,
        )
        .select_related("signup", "campaign")
        .order_by("-sent_at", "-pk")
        .first()
    )


def signup_reply(*, signup, yes, to, reply_key, now=None):
    """A YES (confirm) or NO (cancel: the spot goes to the waitlist) texted back about
    `signup`, and the reply through the outbox. Call inside the inbound text's transaction."""
    from canvass.services.signups import signup_cancel, signup_confirm

    now = now or timezone.now()
    if yes:
        signup_confirm(signup=signup, now=now)
    else:
        signup_cancel(signup=signup, now=now)
    signup = ShiftSignup.objects.select_related("shift__campaign", "volunteer").get(pk=signup.pk)
    step = Step.REPLY_YES if yes else Step.REPLY_NO
    _subject, body = _render(signup, step=step, channel=Channel.SMS)
    return reminder_create(
        campaign=signup.shift.campaign,
        signup=signup,
        channel=Channel.SMS,
        to=to,
        body=body,
        send_at=now,
        idempotency_key=reply_key,
        recipient_name=str(signup.volunteer),
        step=step,
    )
