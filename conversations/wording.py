"""The words of every message: the channels and steps of a follow-up, the placeholders a
template may use, and the default wording in English (translated through locale/).

A campaign's own wording is a MessageTemplate (models); this is what it falls back to.
"""

import string

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")
    NONE = "none", _("No reminders")


PLACEHOLDERS = {
    "first_name": "the person's first name",
    "sender": "the campaign's sender name",
    "what": "what exactly they committed to",
    "when": "when it is, in the recipient's local time",
    "canvasser": "the first name of the volunteer who had the conversation",
    "person": "the person's full name (for the follow-up owner)",
    "contact": "the phone number or email they agreed to (for the follow-up owner)",
    "link": "a link to the commitment (for the follow-up owner); in a shift message, the "
    "volunteer's own signup page (the public signup page once the shift is cancelled)",
    "place": "a shift's staging location (shift messages)",
}


def template_fields(text):
    """The placeholder names used in `text`; ValidationError naming any that is not allowed.

    Only bare names are allowed: no attribute or index access, conversions or format
    specs, so a template can never reach into an object."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise ValidationError(
            "A lone { or } in the text: write {{ or }} for a literal brace.", code="brace"
        ) from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            allowed = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
            raise ValidationError(
                "Unknown placeholder %(shown)s. Use only: %(allowed)s.",
                code="placeholder",
                params={"shown": shown, "allowed": allowed},
            )
        names.append(name)
    return names


def template_render(text, values):
    """Fill `text`'s placeholders from `values` (missing ones render empty)."""
    out = []
    template_fields(text)
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(str(values.get(name) or ""))
    return "".join(out)


class Step(models.TextChoices):
    """The steps of a follow-up plan and the replies to texts: one template each."""

    CONFIRM = "confirm", _("Confirmation, at once (dated)")
    THANKS = "thanks", _("Thank-you, at once (no date)")
    FOUR_DAYS = "four_days", _("4 days before")
    DAY_BEFORE = "day_before", _("The day before, 11:00")
    TWO_HOURS = "two_hours", _("2 hours before")
    CHANGED = "changed", _("The date or details changed")
    OWNER_BEFORE = "owner_before", _("Owner: the day before")
    OWNER_AFTER = "owner_after", _("Owner: the day after (was it kept?)")
    OWNER_CALL = "owner_call", _("Owner: follow up (no date)")
    REPLY_STOP = "reply_stop", _("Reply to STOP")
    REPLY_HELP = "reply_help", _("Reply to HELP")
    REPLY_YES = "reply_yes", _("Reply to YES")
    REPLY_NO = "reply_no", _("Reply to NO")
    # A volunteer's shift signup (canvass/services/notify.py; docs/shifts.md).
    SHIFT_CONFIRM = "shift_confirm", _("Shift: signed up, at once")
    SHIFT_WAITLIST = "shift_waitlist", _("Shift: on the waitlist, at once")
    SHIFT_PROMOTED = "shift_promoted", _("Shift: a spot opened, at once")
    SHIFT_DAY_BEFORE = "shift_day_before", _("Shift: the day before, 11:00")
    SHIFT_MORNING = "shift_morning", _("Shift: the morning of, 08:00 (email)")
    SHIFT_SOON = "shift_soon", _("Shift: 30 minutes before (text)")
    SHIFT_THANKS = "shift_thanks", _("Shift: thank-you, an hour after the end")
    SHIFT_MOVED = "shift_moved", _("Shift: its time or place changed")
    SHIFT_CANCELLED = "shift_cancelled", _("Shift: cancelled by the organizers")


STOP_LINE = " Reply STOP to opt out."
# The default set: used for any campaign, kind and channel without a template of its own in
# the recipient's language. Keys: (step, channel). Values: (subject, body), marked for
# translation: a person's default wording goes out in their language (locale/). Texts stay
# short: one SMS segment or two.
DEFAULT_MESSAGE_TEMPLATES = {
    (Step.CONFIRM, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {canvasser} from {sender}: thanks for saying yes! {what}, "
            "{when}. Reply YES to confirm or NO if you can't make it. Reply STOP to opt out."
        ),
    ),
    (Step.THANKS, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {canvasser} from {sender}: thanks for saying yes to {what}. "
            "We'll be in touch. Reply STOP to opt out."
        ),
    ),
    (Step.FOUR_DAYS, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {sender}: {what} is {when}. See you there! "
            "Reply STOP to opt out."
        ),
    ),
    (Step.DAY_BEFORE, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {canvasser} from {sender}: {what} is {when}. "
            "Can you still make it? Reply YES or NO. Reply STOP to opt out."
        ),
    ),
    (Step.TWO_HOURS, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {sender}: {what} starts soon, {when}. See you there! "
            "Reply STOP to opt out."
        ),
    ),
    (Step.CHANGED, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {sender}: a change — {what} is now {when}. "
            "Reply STOP to opt out."
        ),
    ),
    (Step.REPLY_STOP, Channel.SMS): (
        "",
        gettext_noop("{sender}: you're unsubscribed and will get no more texts from us."),
    ),
    (Step.REPLY_HELP, Channel.SMS): (
        "",
        gettext_noop(
            "{sender}: reminders about what you agreed to when we met. "
            "Reply STOP to opt out. Msg&data rates may apply."
        ),
    ),
    (Step.REPLY_YES, Channel.SMS): (
        "",
        gettext_noop("Thanks {first_name}! See you {when}. — {sender}"),
    ),
    (Step.REPLY_NO, Channel.SMS): (
        "",
        gettext_noop("Thanks for letting us know, {first_name}. We've cancelled it. — {sender}"),
    ),
    (Step.CONFIRM, Channel.EMAIL): (
        gettext_noop("You said yes: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nIt's {canvasser} from {sender}. Thanks for saying yes when "
            "we talked: {what}, {when}.\n\nSee you there!\n{sender}"
        ),
    ),
    (Step.THANKS, Channel.EMAIL): (
        gettext_noop("Thanks for saying yes"),
        gettext_noop(
            "Hi {first_name},\n\nIt's {canvasser} from {sender}. Thanks for saying yes to "
            "{what}. We'll be in touch.\n\n{sender}"
        ),
    ),
    (Step.FOUR_DAYS, Channel.EMAIL): (
        gettext_noop("Coming up: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nA reminder from {sender}: {what} is {when}.\n\nSee you there!"
        ),
    ),
    (Step.DAY_BEFORE, Channel.EMAIL): (
        gettext_noop("Tomorrow: {what}"),
        gettext_noop(
            "Hi {first_name},\n\nIt's {canvasser} from {sender}: {what} is {when}. See you there!"
        ),
    ),
    (Step.TWO_HOURS, Channel.EMAIL): (
        gettext_noop("Starting soon: {what}"),
        gettext_noop("Hi {first_name},\n\n{what} starts soon: {when}.\n\n{sender}"),
    ),
    (Step.CHANGED, Channel.EMAIL): (
        gettext_noop("A change: {what}, {when}"),
        gettext_noop("Hi {first_name},\n\nA change from {sender}: {what} is now {when}."),
    ),
    (Step.OWNER_BEFORE, Channel.EMAIL): (
        gettext_noop("Tomorrow: {person} — {what}"),
        gettext_noop(
            "{person} said yes to {what}, {when}. {canvasser} had the conversation.\n"
            "Reach them at {contact}.\n\n{link}"
        ),
    ),
    (Step.OWNER_AFTER, Channel.EMAIL): (
        gettext_noop("Did {person} make it? {what}"),
        gettext_noop(
            "{person} said yes to {what}, {when}. Was it kept? Mark it, or reschedule:\n\n{link}"
        ),
    ),
    (Step.OWNER_CALL, Channel.EMAIL): (
        gettext_noop("Follow up with {person}: {what}"),
        gettext_noop(
            "{person} said yes to {what} when they talked with {canvasser}. "
            "Reach them at {contact}.\n\n{link}"
        ),
    ),
}


# A volunteer's shift messages. Marked for translation: the default wording goes out in
# the volunteer's language (a campaign's own template is used as written).
SHIFT_MESSAGE_TEMPLATES = {
    (Step.SHIFT_CONFIRM, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, you're signed up with {sender}: {what}, {when}, at {place}. "
            "See, change or cancel: {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_CONFIRM, Channel.EMAIL): (
        gettext_noop("You're signed up: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nThanks for signing up with {sender}: {what}, {when}.\n"
            "Where: {place}\n\nSee, change or cancel your signup: {link}\n\n{sender}"
        ),
    ),
    (Step.SHIFT_WAITLIST, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, {what} with {sender} ({when}) is full, so you're on the "
            "waitlist. We'll tell you when a spot opens: {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_WAITLIST, Channel.EMAIL): (
        gettext_noop("On the waitlist: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\n{what} with {sender} ({when}) is full, so you're on the "
            "waitlist, first come first served. We'll tell you as soon as a spot opens.\n\n"
            "Your signup: {link}\n\n{sender}"
        ),
    ),
    (Step.SHIFT_PROMOTED, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, a spot opened: you're on {what} with {sender}, {when}, at "
            "{place}. Reply YES to confirm or NO if you can't make it. {link} "
            "Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_PROMOTED, Channel.EMAIL): (
        gettext_noop("A spot opened: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nA spot opened and it's yours: {what} with {sender}, "
            "{when}.\nWhere: {place}\n\nConfirm, change or cancel: {link}\n\n{sender}"
        ),
    ),
    (Step.SHIFT_DAY_BEFORE, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, it's {sender}: {what} is tomorrow, {when}, at {place}. "
            "Reply YES to confirm or NO if you can't make it. {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_DAY_BEFORE, Channel.EMAIL): (
        gettext_noop("Tomorrow: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\n{what} with {sender} is tomorrow, {when}.\n"
            "Where: {place}\n\nCan you still make it? Confirm or cancel here: {link}\n\n"
            "{sender}"
        ),
    ),
    (Step.SHIFT_MORNING, Channel.EMAIL): (
        gettext_noop("Today: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nSee you today: {what} with {sender}, {when}.\n"
            "Where: {place}\n\nYour signup: {link}\n\n{sender}"
        ),
    ),
    (Step.SHIFT_SOON, Channel.SMS): (
        "",
        gettext_noop(
            "{sender}: {what} starts in 30 minutes. Meet at {place}. {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_THANKS, Channel.SMS): (
        "",
        gettext_noop(
            "Thank you for coming out with {sender} today, {first_name}! Two questions if you "
            "have a minute: how did it go, and would you come again? Just reply. "
            "Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_THANKS, Channel.EMAIL): (
        gettext_noop("Thank you for {what}"),
        gettext_noop(
            "Hi {first_name},\n\nThank you for coming out with {sender} today. Two "
            "questions, if you have a minute: how did it go, and would you come again? "
            "Just reply to this email.\n\n{sender}"
        ),
    ),
    (Step.SHIFT_MOVED, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, a change from {sender}: {what} is now {when}, at {place}. "
            "Reply YES if you can still make it or NO to cancel. {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_MOVED, Channel.EMAIL): (
        gettext_noop("A change: {what} is now {when}"),
        gettext_noop(
            "Hi {first_name},\n\nA change from {sender}: {what} is now {when}.\n"
            "Where: {place}\n\nStill coming? Confirm or cancel here: {link}\n\n{sender}"
        ),
    ),
    (Step.SHIFT_CANCELLED, Channel.SMS): (
        "",
        gettext_noop(
            "Hi {first_name}, sorry: {sender} had to cancel {what} ({when}). Pick another "
            "shift: {link} Reply STOP to opt out."
        ),
    ),
    (Step.SHIFT_CANCELLED, Channel.EMAIL): (
        gettext_noop("Cancelled: {what}, {when}"),
        gettext_noop(
            "Hi {first_name},\n\nSorry: {sender} had to cancel {what} ({when}), so your "
            "signup is off. We'd love to see you at another shift: {link}\n\n{sender}"
        ),
    ),
}
DEFAULT_MESSAGE_TEMPLATES.update(SHIFT_MESSAGE_TEMPLATES)
