"""Commitments and their follow-up plans: what is sent to whom, and when."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from canvass.models import Volunteer, language_code
from canvass.phones import phone_normalize
from conversations.models import (
    DEFAULT_MESSAGE_TEMPLATES,
    Channel,
    Commitment,
    MessageTemplate,
    OptOut,
    Reminder,
    Step,
    template_render,
)
from conversations.services.delivery import (
    CAP_LEFT_OUT,
    MAX_PERSON_MESSAGES,
    MIN_GAP,
    _zone_for,
    person_messages_count,
    reminder_create,
)

# The years a commitment's time (and a phone's clock) may fall in: reminders are planned
# days around it in the campaign's time zone, which year 9999 would carry past the
# calendar's end. The phone is told the same bounds with its walk list.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = f"Give a date from {EARLIEST.year} to {LATEST.year - 1}."


def when_in_range(when):
    """True when `when` (None or an aware datetime) is one a plan can be written for."""
    return when is None or EARLIEST <= when < LATEST


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
# When the cap forces a choice among pending messages, the first of these are kept: the
# change notice (silence would send them to the wrong place), the last reminder before the
# date, the confirmation, a reply to their text, then the other reminders.
KEEP_ORDER = [
    Step.CHANGED,
    Step.DAY_BEFORE,
    Step.CONFIRM,
    Step.THANKS,
    Step.REPLY_YES,
    Step.REPLY_NO,
    Step.FOUR_DAYS,
    Step.TWO_HOURS,
]


def commitment_plan_trim(*, commitment):
    """Leave out pending messages to the person that would take them past the cap, keeping
    them in KEEP_ORDER; returns how many were left out. Call inside the transaction that
    wrote a message outside the plan (a reply to their text)."""
    allowed = MAX_PERSON_MESSAGES - person_messages_count(commitment)
    pending = list(
        commitment.reminders.filter(
            recipient_kind=Reminder.Recipient.PERSON, status=Reminder.Status.PENDING
        )
    )
    if len(pending) <= max(allowed, 0):
        return 0
    rank = {step: n for n, step in enumerate(KEEP_ORDER)}
    pending.sort(key=lambda r: (rank.get(r.step, len(rank)), r.send_at, r.pk))
    dropped = [r.pk for r in pending[max(allowed, 0) :]]
    return Reminder.objects.filter(pk__in=dropped, status=Reminder.Status.PENDING).update(
        status=Reminder.Status.SUPPRESSED, last_error=CAP_LEFT_OUT
    )


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
    campaign's, the agreed channel has no valid phone or email to use, or `when` lies
    outside EARLIEST to LATEST.
    """
    if not when_in_range(when):
        raise ValidationError({"when": OUT_OF_RANGE})
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
    nothing, on bad input (a `when` outside EARLIEST to LATEST among it).
    """
    if when is not _UNSET and not when_in_range(when):
        raise ValidationError({"when": OUT_OF_RANGE})
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
        previous_when = commitment.when
        for field, value in new.items():
            setattr(commitment, field, value)
        commitment.plan_version += 1
        commitment.save()
        commitment_reminders_cancel(commitment=commitment, reason="The commitment changed.")
        commitment_plan_write(
            commitment=commitment, details_changed=details_changed, previous_when=previous_when
        )
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
    """How people say a time in a text, in `tz` and the active language: 'Thursday Oct 10
    at 7pm' (or 7:30pm); in Spanish 'jueves 10 de octubre a las 19:00'."""
    local = moment.astimezone(tz)
    if not (translation.get_language() or "en").startswith("en"):
        return gettext("%(day)s at %(time)s") % {
            "day": formats.date_format(local, r"l j \d\e F"),
            "time": f"{local:%H:%M}",
        }
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{local:%A %b} {local.day} at {hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def message_language(*, campaign, person=None, said_in=""):
    """The language a message to a person goes out in: the one their text was in when it
    asks for an answer in it (`said_in`, e.g. "es" for AYUDA), else the one recorded for
    them at the door or in the voter file, when Porchlight speaks it, else the campaign's."""
    return (
        language_code(said_in)
        or (language_code(person.language) if person is not None else "")
        or language_code(campaign.language)
        or settings.LANGUAGE_CODE
    )


def message_render(*, campaign, kind, step, channel, values, language=None):
    """(subject, body) for a step in `language` (default: the active one): the campaign's
    template in that language for the kind, for any kind, or the default set translated.
    Raises KeyError when there is no wording at all for this step."""
    language = language_code(language or translation.get_language() or "") or (
        settings.LANGUAGE_CODE
    )
    template = (
        MessageTemplate.objects.filter(
            campaign=campaign,
            step=step,
            channel=channel,
            kind__in=[kind, ""],
            language=language,
        )
        .order_by("-kind")
        .first()
    )
    if template is not None:
        subject, body = template.subject, template.body
    else:
        subject, body = DEFAULT_MESSAGE_TEMPLATES[(step, channel)]
        # gettext("") would be the catalogue's header.
        with translation.override(language):
            subject, body = (gettext(subject) if subject else ""), gettext(body)
    return template_render(subject, values), template_render(body, values)


def _plan_values(commitment, tz):
    campaign, person, owner = commitment.campaign, commitment.person, commitment.owner
    volunteer = commitment.visit.volunteer if commitment.visit_id else None
    canvasser = (
        (volunteer.first_name if volunteer else "")
        or (owner.first_name if owner else "")
        or gettext("a volunteer")
    )
    try:
        # The owner's own follow-up page: one tap to mark kept, missed, rescheduled…
        path = reverse("followup_mark", args=[commitment.pk])
    except NoReverseMatch:
        path = reverse("admin:conversations_commitment_change", args=[commitment.pk])
    link = settings.SITE_URL + path
    return {
        "first_name": (person.first_name if person else "") or gettext("there"),
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


def plan_person_times(*, steps, when, tz, now, budget, first_step, previous_when=None):
    """[(step, send_at)] for the person, at most `budget` of them, in time order.

    `first_step` (confirm, thanks or changed) goes at once; the dated steps are
    dropped when already past, at or after the event, or within MIN_GAP of the
    first message (two texts in one afternoon about the same thing). When more
    remain than the budget allows, they are dropped in DROP_ORDER: see
    docs/reminders.md for why the 2-hours-before one goes first. A budget of None
    means no cap (what the plan would be).

    When only one message is left to give after a change, it is the last reminder
    before the date (it names the new date and still reminds), unless the old date
    (`previous_when`) comes before that reminder: then the change notice, or they
    would go on the old date.
    """
    if when is not None and when <= now:
        return []  # it is over: nothing to remind anyone of
    head = [(first_step, now)] if first_step else []
    dated = []
    if when is not None:
        local = when.astimezone(tz)
        times = {
            Step.FOUR_DAYS: _at_local(local.date() - timedelta(days=4), local.timetz(), tz),
            Step.DAY_BEFORE: _at_local(local.date() - timedelta(days=1), DAY_BEFORE_AT, tz),
            Step.TWO_HOURS: when - timedelta(hours=2),
        }
        earliest = now + MIN_GAP if first_step else now
        dated = [
            (step, at) for step, at in times.items() if step in steps and earliest <= at < when
        ]
    if budget is not None:
        budget = max(budget, 0)
        order = {step: n for n, step in enumerate(DROP_ORDER)}
        dated.sort(key=lambda item: order.get(item[0], len(order)))  # first dropped first
        while len(head) + len(dated) > budget:
            keep_head = (
                first_step != Step.CHANGED
                or previous_when is None
                or (dated and previous_when <= dated[-1][1])
            )
            if dated and (len(dated) > 1 or keep_head or not head):
                dated.pop(0)
            else:
                head.pop()
    return sorted(head + dated, key=lambda item: item[1])


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


def owner_timezone(user, campaign):
    """A follow-up owner's zone: their volunteer profile's when one names it (the oldest
    such profile, as for the morning digest), else the campaign's."""
    zone = (
        Volunteer.objects.filter(user=user)
        .exclude(timezone="")
        .order_by("pk")
        .values_list("timezone", flat=True)
        .first()
    )
    return zoneinfo.ZoneInfo(zone) if zone else campaign.tz


def commitment_plan_write(*, commitment, details_changed=False, now=None, previous_when=None):
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

    def write(
        *,
        step,
        send_at,
        channel,
        to,
        tz,
        recipient_kind,
        recipient_name,
        language,
        left_out=False,
        recipient_tz="",
    ):
        with translation.override(language):
            subject, body = message_render(
                campaign=campaign,
                kind=commitment.kind,
                step=step,
                channel=channel,
                values=_plan_values(commitment, tz),
                language=language,
            )
        if left_out:
            # Written, not sent, so the commitment's page shows what the cap left out.
            written.append(
                Reminder.objects.get_or_create(
                    idempotency_key=f"commitment:{commitment.pk}:v{commitment.plan_version}:{step}",
                    defaults=dict(
                        campaign=campaign,
                        commitment=commitment,
                        channel=channel,
                        to=to,
                        subject=subject[:200],
                        body=body,
                        send_at=send_at,
                        recipient_kind=recipient_kind,
                        recipient_name=recipient_name[:200],
                        step=step,
                        status=Reminder.Status.SUPPRESSED,
                        last_error=CAP_LEFT_OUT,
                    ),
                )[0]
            )
            return
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
                recipient_tz=recipient_tz,
            )
        )

    to = {Channel.SMS: commitment.phone, Channel.EMAIL: commitment.email}.get(commitment.channel)
    reachable = (
        to and not (person is not None and person.do_not_contact) and not OptOut.is_opted_out(to)
    )
    if reachable:
        # Every message to the person about this commitment counts: plan steps, change
        # notices and replies to their texts alike.
        already = person_messages_count(commitment)
        if already == 0:
            first = Step.CONFIRM if commitment.when else Step.THANKS
            if first not in steps and Step.CONFIRM not in steps:
                first = None
        else:
            first = Step.CHANGED if details_changed else None
        budget = MAX_PERSON_MESSAGES - already
        tz = _zone_for(channel=commitment.channel, to=to, campaign=campaign, person=person)
        times = dict(steps=steps, when=commitment.when, tz=tz, now=now, first_step=first)
        wanted = plan_person_times(**times, budget=None)
        kept = plan_person_times(**times, budget=budget, previous_when=previous_when)
        if already == 0:
            # A first plan leaves the two-hours one out by design (docs/reminders.md), not
            # because of what was sent before: nothing to show.
            wanted = kept
        for step, send_at in wanted:
            write(
                step=step,
                send_at=send_at,
                channel=commitment.channel,
                to=to,
                tz=tz,
                recipient_kind=Reminder.Recipient.PERSON,
                recipient_name=str(person) if person else "",
                language=message_language(campaign=campaign, person=person),
                left_out=(step, send_at) not in kept,
            )
    owner = commitment.owner
    if owner is not None and owner.email:
        # The owner's morning is theirs, as for the digest: 9:00 where they are.
        owner_tz = owner_timezone(owner, campaign)
        for step, send_at in plan_owner_times(
            steps=steps, when=commitment.when, tz=owner_tz, now=now
        ):
            write(
                step=step,
                send_at=send_at,
                channel=Channel.EMAIL,
                to=owner.email,
                tz=owner_tz,
                recipient_kind=Reminder.Recipient.OWNER,
                recipient_name=owner.get_full_name() or owner.get_username(),
                # Owners read the campaign's language.
                language=message_language(campaign=campaign),
                recipient_tz=owner_tz.key,
            )
    return written
