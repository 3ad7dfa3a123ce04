"""What happened at the door and what follows from it."""

import hashlib
import hmac
import string
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from canvass.models import Campaign, Volunteer
from canvass.phones import PhoneNumberField
from turf.models import Assignment, Household, Person


class Visit(models.Model):
    """One knock (or one conversation away from a door). Append-only.

    `client_id` is made on the phone before the visit is first saved there; the
    unique constraint is what lets the phone resend a visit any number of times.
    """

    class Outcome(models.TextChoices):
        NOT_HOME = "not_home", _("Not home")
        REFUSED = "refused", _("Refused")
        MOVED = "moved", _("Moved")
        INACCESSIBLE = "inaccessible", _("Inaccessible")
        COME_BACK = "come_back", _("Come back later")
        CONVERSATION = "conversation", _("Conversation")

    client_id = models.UUIDField(unique=True, default=uuid.uuid4)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="visits")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)
    place = models.CharField(
        max_length=200, blank=True, help_text="Where, for a conversation away from a door."
    )
    happened_at = models.DateTimeField(help_text="The time on the device when it happened.")
    received_at = models.DateTimeField(default=timezone.now)
    # SHA-256 of the item as the phone sent it (canonical form): a resend with the same
    # client_id is answered with this row only when the content matches.
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Typed in from a paper walk sheet, and by whom; a phone's visits leave both empty.
    from_paper = models.BooleanField(default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who typed it in from paper.",
    )

    class Meta:
        ordering = ["-happened_at"]
        indexes = [models.Index(fields=["household", "-happened_at"])]

    def __str__(self):
        return f"{self.get_outcome_display()} at {self.household or self.place or 'an event'}"


class StoryNote(models.Model):
    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="story_note")
    rating_before = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_after = models.PositiveSmallIntegerField(null=True, blank=True)
    why = models.TextField(blank=True, help_text="Why that number, in their words.")
    themes = models.JSONField(default=list, blank=True)
    story = models.TextField(blank=True)
    canvasser_shared_story = models.BooleanField(default=False)
    values_feelings = models.TextField(blank=True)
    sensitive = models.BooleanField(
        default=False, help_text="Health, immigration, abuse…: shown only to organizers."
    )
    self_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How well the canvasser listened, 0–10."
    )
    minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How long the conversation lasted, in minutes."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating_before__isnull=True) | Q(rating_before__lte=10),
                name="storynote_rating_before_0_10",
            ),
            models.CheckConstraint(
                condition=Q(rating_after__isnull=True) | Q(rating_after__lte=10),
                name="storynote_rating_after_0_10",
            ),
            models.CheckConstraint(
                condition=Q(self_rating__isnull=True) | Q(self_rating__lte=10),
                name="storynote_self_rating_0_10",
            ),
            models.CheckConstraint(
                condition=Q(minutes__isnull=True) | Q(minutes__lte=240),
                name="storynote_minutes_at_most_240",
            ),
        ]

    def __str__(self):
        return f"Story note for {self.visit}"

    @property
    def rating_shift(self):
        """Canvasser-reported change: after minus before, or None."""
        if self.rating_before is None or self.rating_after is None:
            return None
        return self.rating_after - self.rating_before


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")
    NONE = "none", _("No reminders")


class Commitment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="commitments")
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="commitments"
    )
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="commitments"
    )
    kind = models.CharField(max_length=40)
    what = models.CharField(max_length=300)
    when = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_commitments",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.NONE)
    phone = PhoneNumberField()
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # A "volunteer a shift" made at the door for one of the campaign's shifts: the signup
    # it became (canvass/services/ladder.py). Kept on check-in, missed on a no-show.
    shift_signup = models.ForeignKey(
        "canvass.ShiftSignup",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commitments",
    )
    # Set by a YES / NO text reply to a confirmation (NO also cancels the commitment).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    # Bumped each time the follow-up plan is rewritten (a change of when, what or channel):
    # reminder idempotency keys carry it, so a rewritten plan never collides with the old one.
    plan_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["when", "created_at"]
        # The campaign's follow-ups page: its open commitments by section, in date order.
        indexes = [
            # The follow-ups pages: a section's count and one page of it in the order shown.
            models.Index(
                fields=["campaign", "status", "when", "created_at", "id"],
                name="commitment_followups_order",
            )
        ]

    def __str__(self):
        return f"{self.kind}: {self.what}"


# The start of last_error on a row the per-person daily cap moved to a later day.
DAY_CAP_HELD = "Held by the daily cap"


class ReminderQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(status=Reminder.Status.PENDING, send_at__lte=now or timezone.now())

    def needs_a_person(self):
        """Rows nobody will touch again by themselves: a person must look (admin filter)."""
        return self.filter(status__in=[Reminder.Status.UNKNOWN, Reminder.Status.FAILED])

    def held_by_daily_cap(self):
        """Pending rows the per-person daily cap moved to a later day (shown to organizers)."""
        return self.filter(status=Reminder.Status.PENDING, last_error__startswith=DAY_CAP_HELD)


class Reminder(models.Model):
    """The outbox. A row is written in the same transaction as what it is about;
    Celery only drains due rows, claiming each with a conditional UPDATE."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        SUPPRESSED = "suppressed", _("Suppressed")
        CANCELLED = "cancelled", _("Cancelled (plan changed)")
        # Outcome unknown, and a person chose to send the current plan's next message
        # instead: it may have arrived, so it still counts towards the cap.
        REPLACED = "replaced", _("Outcome unknown, replaced by the current plan")

    class Recipient(models.TextChoices):
        PERSON = "person", _("The person")
        OWNER = "owner", _("The follow-up owner")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # A shift signup's confirmation or reminder (canvass/services/notify.py): the same
    # outbox, quiet hours and opt-outs as a commitment's.
    signup = models.ForeignKey(
        "canvass.ShiftSignup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    recipient_kind = models.CharField(
        max_length=10, choices=Recipient.choices, default=Recipient.PERSON
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254, help_text="E.164 phone number or email address.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    step = models.CharField(
        max_length=20, blank=True, help_text="Which step of the follow-up plan, or which reply."
    )
    send_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the dispatcher last put it on the queue: a due row queued recently is not queued
    # again each minute, one queued long ago (a lost publish, a Redis restart) is.
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A fresh token per claim: only the worker holding it may move the row on.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    # Stamped (and committed) just before the provider is called. A row stuck in "sending"
    # without it never reached the provider and is safe to send again; with it, it is not.
    provider_called_at = models.DateTimeField(null=True, blank=True)
    # The recipient's own zone when we know it (an owner's profile); quiet hours are
    # theirs. Blank: from the phone number, else the campaign's.
    recipient_timezone = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        # The id breaks ties: two replies queued in the same instant go out in
        # the order they were written, whatever order the database reads them in.
        ordering = ["send_at", "pk"]
        indexes = [
            models.Index(fields=["status", "send_at"]),
            # The daily cap counts a recipient's messages at each send.
            models.Index(Lower("to"), name="reminder_to_lower"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.to} at {self.send_at:%Y-%m-%d %H:%M}"

    @property
    def step_label(self):
        """What this message is, in words ("The day before, 11:00"), or "Message"."""
        return Step(self.step).label if self.step in Step.values else "Message"


class OptOut(models.Model):
    """A phone number or email that must never be messaged again, by any campaign."""

    address = models.CharField(max_length=254, unique=True, help_text="E.164 or email.")
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Where the opt-out came from; it applies everywhere.",
    )
    source = models.CharField(max_length=40, default="sms_keyword")
    keyword = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        # Email addresses compare case-insensitively; E.164 numbers are unaffected.
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)

    # A forgotten person's opt-out keeps no address: only this keyed one-way hash of it.
    HASH_PREFIX = "hmac-sha256:"

    @classmethod
    def address_hash(cls, address):
        key = (settings.OPTOUT_HASH_KEY or settings.SECRET_KEY).encode()
        digest = hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()
        return cls.HASH_PREFIX + digest

    @classmethod
    def opted_out_among(cls, addresses):
        """The addresses among `addresses` (lower-cased) that must not be messaged: opted
        out by address, or by the hash a forgotten person's opt-out is kept as."""
        plain = {a.strip().lower() for a in addresses if a}
        if not plain:
            return set()
        hashed = {cls.address_hash(a): a for a in plain}
        found = set(
            cls.objects.filter(address__in=plain | set(hashed)).values_list("address", flat=True)
        )
        return {a for a in plain if a in found} | {hashed[h] for h in found if h in hashed}

    @classmethod
    def is_opted_out(cls, address):
        return bool(cls.opted_out_among([address]))


class InboundSms(models.Model):
    """A text someone sent to the campaign's number, and what was done with it."""

    class Handling(models.TextChoices):
        OPT_OUT = "opt_out", _("Opt-out")
        HELP = "help", _("Help")
        YES = "yes", _("Confirmed")
        NO = "no", _("Declined")
        OTHER = "other", _("Other (for a person to read)")

    provider_id = models.CharField(max_length=64, unique=True, help_text="Twilio's MessageSid.")
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    handled_as = models.CharField(max_length=10, choices=Handling.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_sms"
    )
    commitment = models.ForeignKey(
        Commitment, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_sms"
    )
    signup = models.ForeignKey(
        "canvass.ShiftSignup",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_sms",
    )
    received_at = models.DateTimeField(default=timezone.now)
    # A reply that is not a keyword waits in the campaign's replies inbox until a person
    # answers it or marks it handled.
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound text"

    def __str__(self):
        return f"{self.from_number}: {self.body[:40]}"


# --- Message templates -----------------------------------------------------------

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


class MessageTemplate(models.Model):
    """A campaign's own wording for one step (for one commitment kind, or for all), in one
    language.

    Looked up in the recipient's language, most specific first: this campaign and kind,
    this campaign any kind, then DEFAULT_MESSAGE_TEMPLATES translated."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="message_templates"
    )
    kind = models.CharField(
        max_length=40, blank=True, help_text="A commitment kind code, or blank for every kind."
    )
    step = models.CharField(max_length=20, choices=Step.choices)
    channel = models.CharField(
        max_length=10, choices=[(Channel.SMS, Channel.SMS.label), (Channel.EMAIL, "Email")]
    )
    # The language the wording is in: a person gets the wording in theirs (see
    # conversations.services.plans.message_language).
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(
        help_text="Placeholders: " + ", ".join("{" + key + "}" for key in PLACEHOLDERS) + "."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "language", "kind", "step", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language", "kind", "step", "channel"],
                name="messagetemplate_unique_per_language",
            )
        ]

    def __str__(self):
        return (
            f"{self.get_step_display()} ({self.channel}, {self.kind or 'every kind'}, "
            f"{self.language})"
        )

    def save(self, *args, **kwargs):
        # Checked here too, not only in forms: a template that cannot render would
        # otherwise fail later, in a worker, when a reminder is due.
        template_fields(self.subject)
        template_fields(self.body)
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        for field in ("subject", "body"):
            try:
                template_fields(getattr(self, field))
            except ValidationError as exc:
                errors[field] = exc.messages
        person_text = self.channel == Channel.SMS and not self.step.startswith(("owner_", "reply_"))
        if person_text and "STOP" not in self.body and "body" not in errors:
            errors["body"] = [
                "Texts to people must say how to opt out: end with “Reply STOP to opt out.”"
            ]
        if (
            self.kind
            and self.campaign_id
            and self.kind not in self.campaign.commitment_kind_codes()
        ):
            errors["kind"] = f"“{self.kind}” is not one of this campaign's commitment kinds."
        if errors:
            raise ValidationError(errors)


class FollowUpEvent(models.Model):
    """One thing the follow-up owner (or an organizer) did about a commitment. Append-only:
    it is the record of who marked what, and when."""

    class Outcome(models.TextChoices):
        KEPT = "kept", _("Kept")
        MISSED = "missed", _("Missed")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        CANCELLED = "cancelled", _("Cancelled")
        REACHED = "reached", _("Reached")
        NOT_REACHED = "not_reached", _("Not reached")

    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="followup_events"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.TextField(blank=True)
    status_before = models.CharField(max_length=20, choices=Commitment.Status.choices)
    status_after = models.CharField(max_length=20, choices=Commitment.Status.choices)
    when_before = models.DateTimeField(null=True, blank=True)
    when_after = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="followup_events",
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["commitment", "-at"])]

    def __str__(self):
        who = self.by or "someone since removed"
        return f"{self.get_outcome_display()} by {who} at {self.at:%Y-%m-%d %H:%M}"


class HeldVisit(models.Model):
    """A visit the server would not take, sent from the phone as it is for an organizer
    to review: refused (invalid), a different visit under the same client_id (conflict),
    or one the server kept failing on. Nothing of it is applied to people or turf until
    an organizer records it; the phone can then let it go and the volunteer can finish.
    """

    class Problem(models.TextChoices):
        INVALID = "invalid", _("Refused by the server")
        CONFLICT = "conflict", _("A different visit has its id")
        SERVER = "server", _("The server kept failing on it")
        ENDED = "ended", _("Its link ended before it was delivered")

    client_id = models.UUIDField(unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="held_visits")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, related_name="held_visits"
    )
    payload = models.JSONField(help_text="The visit exactly as the phone holds it.")
    problem = models.CharField(max_length=20, choices=Problem.choices)
    detail = models.TextField(blank=True, help_text="What the server said, as the phone saw it.")
    received_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["campaign", "resolved_at"])]

    def __str__(self):
        return f"Held visit {self.client_id} ({self.get_problem_display()})"


from conversations.numbers import NumbersChange  # noqa: E402, F401  (the numbers' change log)
