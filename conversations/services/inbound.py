"""Inbound texts: opt-outs, HELP, YES / NO."""

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

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
from conversations.services.plans import (
    _plan_values,
    commitment_cancel,
    commitment_plan_trim,
    message_language,
    message_render,
    owner_timezone,
)

# The messages that invite a YES / NO reply.
ASKING_STEPS = [Step.CONFIRM, Step.DAY_BEFORE, Step.CHANGED]

# A whole message equal to one of these is a keyword (after sms_keyword's normalising).
STOP_KEYWORDS = {"STOP", "STOPALL", "QUIT", "END", "CANCEL", "UNSUBSCRIBE", "REVOKE", "OPT OUT"}
STOP_KEYWORDS |= {"OPTOUT", "UNSUB", "STOP ALL", "OPT OUT ALL"}
STOP_KEYWORDS_ES = {"ALTO", "PARAR", "PARA", "PARE", "BASTA", "CANCELAR", "DETENER", "BAJA"}
STOP_KEYWORDS_ES |= {"NO MAS", "YA NO"}
HELP_KEYWORDS = {"HELP", "INFO"}
HELP_KEYWORDS_ES = {"AYUDA", "INFORMACION"}
YES_KEYWORDS = {"YES", "Y", "YEP", "YEAH", "SI"}
NO_KEYWORDS = {"NO", "N", "NOPE"}

# A message starting with one of these asks to stop, whatever follows ("STOP ALL", "Stop
# please", "Unsubscribe me", "BASTA ya"), except the phrases after it in STOP_NOT_AFTER.
STOP_FIRST_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "UNSUB", "OPTOUT", "REVOKE", "CANCEL"}
STOP_FIRST_WORDS_ES = {"ALTO", "PARAR", "BASTA", "CANCELAR", "DETENER"}
STOP_NOT_AFTER = {"BY", "IN", "OVER"}  # "stop by Tuesday?" is an invitation
# Short messages (up to SHORT_WORDS words) containing one of these phrases ask to stop.
SHORT_WORDS = 12
STOP_PHRASES = [
    "PLEASE STOP",
    "PLS STOP",
    "PLZ STOP",
    "JUST STOP",
    "STOP TEXTING",
    "STOP TEXT",
    "STOP SENDING",
    "STOP MESSAGING",
    "STOP CONTACTING",
    "STOP CALLING",
    "STOP EMAILING",
    "STOP IT",
    "STOP PLEASE",
    "STOP NOW",
    "UNSUBSCRIBE",
    "OPT OUT",
    "OPT ME OUT",
    "REMOVE ME",
    "TAKE ME OFF",
    "NO MORE TEXTS",
    "NO MORE TEXT",
    "NO MORE MESSAGES",
    "NO MORE REMINDERS",
    "DONT TEXT",
    "DO NOT TEXT",
    "DONT CONTACT",
    "DO NOT CONTACT",
    "DONT MESSAGE",
    "DO NOT MESSAGE",
    "LEAVE ME ALONE",
    "WRONG NUMBER",
]
STOP_PHRASES_ES = [
    "NO MAS MENSAJES",
    "NO MAS TEXTOS",
    "NO MAS MSJ",
    "NO MAS SMS",
    "NO MAS RECORDATORIOS",
    "NO MAS POR FAVOR",
    "NO MAS GRACIAS",
    "NO ME ENVIEN",
    "NO ME MANDEN",
    "NO ME ESCRIBAN",
    "NO ME CONTACTEN",
    "NO ME MANDES",
    "NO ME ESCRIBAS",
    "DEJEN DE",
    "DEJA DE",
    "DE BAJA",
    "NO QUIERO MENSAJES",
    "NO QUIERO RECIBIR",
    "NUMERO EQUIVOCADO",
    "BASTA",
    "ALTO",
]


def sms_keyword(body):
    """The message normalised for matching: width folded (NFKC: "ＳＴＯＰ" → "STOP"), accents
    and apostrophes dropped ("más" → "MAS", "don't" → "DONT"), upper case, punctuation and
    extra spaces gone ("opt-out!" → "OPT OUT")."""
    text = unicodedata.normalize("NFKC", body or "")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"['’`´]", "", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).upper().replace("_", " ").split())


def _has_phrase(keyword, phrase):
    return f" {phrase} " in f" {keyword} "


def sms_intent(body):
    """(intent, language) of a text someone sent: intent "stop", "help", "yes", "no" or
    None (for a person to read); language "en" or "es".

    An opt-out is a whole message equal to a keyword, a message starting with an opt-out
    word, or a short message that clearly asks to stop, in English or Spanish. It errs
    towards stopping: a false stop costs one reminder, a missed one costs trust and breaks
    carrier rules. "stop by Tuesday?" and "don't stop" are not opt-outs.
    """
    keyword = sms_keyword(body)
    words = keyword.split()
    if not words:
        return None, "en"
    if keyword in STOP_KEYWORDS_ES:
        return "stop", "es"
    if keyword in STOP_KEYWORDS:
        return "stop", "en"
    first, second = words[0], (words[1] if len(words) > 1 else "")
    if first in STOP_FIRST_WORDS_ES:
        return "stop", "es"
    if first in STOP_FIRST_WORDS and second not in STOP_NOT_AFTER:
        return "stop", "en"
    if len(words) <= SHORT_WORDS:
        if any(_has_phrase(keyword, phrase) for phrase in STOP_PHRASES_ES):
            return "stop", "es"
        if any(_has_phrase(keyword, phrase) for phrase in STOP_PHRASES):
            return "stop", "en"
        # "No, stop." / "Stop!!" at the end of a short message, unless it says not to.
        negated = len(words) > 1 and words[-2] in {"DONT", "NOT", "NEVER"}
        if words[-1] == "STOP" and not negated:
            return "stop", "en"
    if keyword in HELP_KEYWORDS_ES or (first == "AYUDA" and len(words) <= 4):
        return "help", "es"
    if keyword in HELP_KEYWORDS or (first == "HELP" and len(words) <= 4):
        return "help", "en"
    if keyword in YES_KEYWORDS:
        return "yes", "es" if keyword == "SI" else "en"
    if keyword in NO_KEYWORDS:
        return "no", "en"
    return None, "en"


def _reply(*, inbound, step, campaign, commitment, to, said_in="", person=None):
    """Queue the answer to a text someone sent, in their language: the one the text was in
    when it was Spanish (AYUDA gets the help reply in Spanish), else theirs, else the
    campaign's."""
    person = commitment.person if commitment is not None and commitment.person_id else person
    tz = _zone_for(channel=Channel.SMS, to=to, campaign=campaign, person=person)
    language = message_language(
        campaign=campaign, person=person, said_in=said_in if said_in != "en" else ""
    )
    with translation.override(language):
        if commitment is not None:
            values = _plan_values(commitment, tz)
            kind = commitment.kind
        else:
            values = {
                "sender": campaign.sender_name or campaign.name,
                "first_name": gettext("there"),
            }
            kind = ""
        _subject, body = message_render(
            campaign=campaign,
            kind=kind,
            step=step,
            channel=Channel.SMS,
            values=values,
            language=language,
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
    intent, language = sms_intent(body)
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
        if intent == "stop":
            inbound.handled_as = InboundSms.Handling.OPT_OUT
            _, new = OptOut.objects.get_or_create(
                address=number, defaults=dict(campaign=campaign, keyword=keyword[:40])
            )
            Reminder.objects.filter(to=number, status=Reminder.Status.PENDING).update(
                status=Reminder.Status.SUPPRESSED,
                last_error=f"Opted out by text ({keyword[:60]}).",
            )
            if new and campaign is not None:
                _reply(
                    inbound=inbound,
                    step=Step.REPLY_STOP,
                    campaign=campaign,
                    commitment=None,
                    to=number,
                    said_in=language,
                    person=last.commitment.person if last.commitment_id else None,
                )
        elif intent == "help":
            inbound.handled_as = InboundSms.Handling.HELP
            if campaign is not None:
                _reply(
                    inbound=inbound,
                    step=Step.REPLY_HELP,
                    campaign=campaign,
                    commitment=None,
                    to=number,
                    said_in=language,
                    person=last.commitment.person if last.commitment_id else None,
                )
        elif intent in ("yes", "no"):
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
                if intent == "yes":
                    inbound.handled_as = InboundSms.Handling.YES
                    Commitment.objects.filter(pk=commitment.pk).update(confirmed_at=now)
                    _reply(
                        inbound=inbound,
                        step=Step.REPLY_YES,
                        campaign=campaign,
                        commitment=commitment,
                        to=number,
                        said_in=language,
                    )
                    # The reply counts towards the cap: the plan makes room for it.
                    commitment_plan_trim(commitment=commitment)
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
                        said_in=language,
                    )
        if inbound.handled_as == InboundSms.Handling.OTHER and last is not None:
            # For a person to read: about what this number was last texted about.
            commitment = commitment or last.commitment
        inbound.campaign, inbound.commitment = campaign, commitment
        inbound.save()
        if inbound.handled_as == InboundSms.Handling.OTHER and commitment is not None:
            _owner_told(inbound=inbound, commitment=commitment)
    return inbound


def _person_name(inbound):
    commitment = inbound.commitment
    if commitment is not None and commitment.person_id:
        return str(commitment.person)
    return inbound.from_number


def owner_notice_key(provider_id):
    """The idempotency key of the email telling an owner about the text `provider_id`."""
    return f"reply-owner:{provider_id}"


def _owner_told(*, inbound, commitment):
    """Email the commitment's owner that a reply is waiting (through the outbox, in the
    owner's zone and quiet hours). Call inside the transaction that recorded it."""
    owner = commitment.owner
    if owner is None or not owner.email:
        return None
    try:
        link = settings.SITE_URL + reverse("replies_inbox", args=[commitment.campaign.slug])
    except NoReverseMatch:
        link = settings.SITE_URL
    name = _person_name(inbound)
    # Not tied to the commitment's own rules: a reply about a cancelled commitment is still
    # a person waiting for an answer.
    return reminder_create(
        campaign=commitment.campaign,
        channel=Channel.EMAIL,
        to=owner.email,
        subject=f"{name} replied: {inbound.body[:60]}",
        body=(
            f"{name} replied to a text about {commitment.what}:\n\n"
            f"“{inbound.body}”\n\nAnswer, or mark it handled, in the replies inbox:\n{link}"
        ),
        send_at=timezone.now(),
        idempotency_key=owner_notice_key(inbound.provider_id),
        recipient_kind=Reminder.Recipient.OWNER,
        recipient_name=owner.get_full_name() or owner.get_username(),
        step=OWNER_REPLY_STEP,
        recipient_tz=owner_timezone(owner, commitment.campaign).key,
    )


# Steps of messages outside any plan (Reminder.step is free text).
OWNER_REPLY_STEP = "owner_reply"
ANSWER_STEP = "answer"
ANSWER_MAX_LENGTH = 480  # three SMS segments


def inbound_answer(*, inbound, body, by):
    """A person answers a reply from the inbox: one text through the outbox (so quiet
    hours and opt-outs apply), and the reply is marked handled. Returns the Reminder.

    Raises ValidationError, writing nothing, when the answer is empty or too long, the
    number has opted out, or the reply is not a text waiting for an answer.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the answer to send."})
    if len(body) > ANSWER_MAX_LENGTH:
        raise ValidationError(
            {
                "body": f"The answer is {len(body)} characters; keep it to "
                f"{ANSWER_MAX_LENGTH} or fewer (three texts)."
            }
        )
    if OptOut.is_opted_out(inbound.from_number):
        raise ValidationError(
            f"{inbound.from_number} has opted out: no text can be sent to them. "
            "Reach them another way, or mark the reply handled."
        )
    with transaction.atomic():
        locked = InboundSms.objects.select_for_update().get(pk=inbound.pk)
        sent_before = Reminder.objects.filter(
            idempotency_key__startswith=f"answer:{locked.pk}:"
        ).count()
        reminder = reminder_create(
            campaign=locked.campaign,
            channel=Channel.SMS,
            to=locked.from_number,
            body=body,
            send_at=timezone.now(),
            idempotency_key=f"answer:{locked.pk}:{sent_before + 1}",
            recipient_name=_person_name(locked),
            step=ANSWER_STEP,
        )
        if locked.handled_at is None:
            InboundSms.objects.filter(pk=locked.pk).update(handled_at=timezone.now(), handled_by=by)
    return reminder


def inbound_mark_handled(*, inbound, by):
    """Mark a reply handled; False when it already was."""
    return bool(
        InboundSms.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(
            handled_at=timezone.now(), handled_by=by
        )
    )
