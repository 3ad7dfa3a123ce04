"""Inbound texts: opt-outs, HELP, YES / NO."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from canvass.phones import phone_normalize
from conversations.models import (
    Channel,
    Commitment,
    InboundSms,
    OptOut,
    Reminder,
    Step,
)
from conversations.services.delivery import REPLY_STEPS, _zone_for, reminder_create
from conversations.services.plans import _plan_values, commitment_cancel, message_render

# The messages that invite a YES / NO reply.
ASKING_STEPS = [Step.CONFIRM, Step.DAY_BEFORE, Step.CHANGED]

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


def _shift_asked(*, number, now):
    """The last YES / NO question about a shift signup still to come sent to `number`."""
    from canvass.services.notify import signup_asked_reminder

    return signup_asked_reminder(to=number, now=now)


def _shift_reply(*, inbound, asked, yes, now):
    """Confirm (YES) or cancel (NO) the signup `asked` was about; returns the handling."""
    from canvass.services.notify import signup_reply

    signup_reply(
        signup=asked.signup,
        yes=yes,
        to=asked.to,
        reply_key=f"reply:{inbound.provider_id}",
        now=now,
    )
    return InboundSms.Handling.YES if yes else InboundSms.Handling.NO


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
            shift_asked = _shift_asked(number=number, now=now)
            if shift_asked is not None and (
                asked is None or (shift_asked.sent_at, shift_asked.pk) > (asked.sent_at, asked.pk)
            ):
                # The last question this number had was about a shift signup.
                campaign = shift_asked.campaign
                inbound.signup = shift_asked.signup
                inbound.handled_as = _shift_reply(
                    inbound=inbound, asked=shift_asked, yes=keyword in YES_KEYWORDS, now=now
                )
            elif asked is not None:
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
