"""What happened at the door and what follows from it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["when", "created_at"]

    def __str__(self):
        return f"{self.kind}: {self.what}"


class ReminderQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(status=Reminder.Status.PENDING, send_at__lte=now or timezone.now())


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

    class Recipient(models.TextChoices):
        PERSON = "person", _("The person")
        OWNER = "owner", _("The follow-up owner")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    recipient_kind = models.CharField(
        max_length=10, choices=Recipient.choices, default=Recipient.PERSON
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254, help_text="E.164 phone number or email address.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    send_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["send_at"]
        indexes = [models.Index(fields=["status", "send_at"])]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.to} at {self.send_at:%Y-%m-%d %H:%M}"


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

    @classmethod
    def is_opted_out(cls, address):
        return bool(address) and cls.objects.filter(address=address.strip().lower()).exists()


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
