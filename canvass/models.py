"""Campaigns, the people who run them, and their time: shifts and sign-ups."""

import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from canvass.phones import PhoneNumberField

DEFAULT_SCALE_LABELS = {"0": "Strongly oppose", "5": "Unsure", "10": "Strongly support"}
DEFAULT_STORY_THEMES = [
    "Health care costs",
    "Housing",
    "Work and wages",
    "Family",
    "Feeling judged",
    "Faith",
    "A loved one affected",
]
DEFAULT_COMMITMENT_KINDS = [
    {"code": "meeting", "label": "Come to a meeting"},
    {"code": "support_group", "label": "Join a support group"},
    {"code": "volunteer_shift", "label": "Volunteer a shift"},
    {"code": "vote_plan", "label": "Make a vote plan"},
    {"code": "follow_up", "label": "Talk again"},
]


def _default_scale_labels():
    return dict(DEFAULT_SCALE_LABELS)


def _default_story_themes():
    return list(DEFAULT_STORY_THEMES)


def _default_commitment_kinds():
    return [dict(kind) for kind in DEFAULT_COMMITMENT_KINDS]


def validate_timezone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "“%(value)s” is not a time zone. Use a name like America/Chicago.",
            params={"value": value},
        ) from None


def validate_street_list(value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError('Give a list of street names, e.g. ["Mill Lane", "Rose Court"].')


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/Chicago", validators=[validate_timezone]
    )
    phone_region = models.CharField(
        max_length=2, default="US", help_text="Region for phone numbers written without +country."
    )
    rating_question = models.CharField(
        max_length=300,
        default="On a scale of 0 to 10, how do you feel about this?",
    )
    scale_labels = models.JSONField(
        default=_default_scale_labels,
        blank=True,
        help_text='Labels for points on the 0–10 scale, e.g. {"0": "Strongly oppose"}.',
    )
    story_themes = models.JSONField(default=_default_story_themes, blank=True)
    commitment_kinds = models.JSONField(
        default=_default_commitment_kinds,
        blank=True,
        help_text='A list of {"code": …, "label": …}.',
    )
    quiet_hours_start = models.TimeField(
        default=time(21, 0), help_text="No messages from this local time…"
    )
    quiet_hours_end = models.TimeField(default=time(8, 0), help_text="…until this local time.")
    sender_name = models.CharField(
        max_length=100, blank=True, help_text="How messages sign off, e.g. “the tenants' campaign”."
    )
    retention_days = models.PositiveIntegerField(
        default=365, help_text="Days to keep people's stories after the campaign ends."
    )
    walk_both_sides = models.BooleanField(
        default=False,
        help_text="Walk lists cross back and forth and take both sides of every street together.",
    )
    narrow_streets = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_street_list],
        help_text='Streets walked both sides at once (zig-zag), e.g. ["Mill Lane"].',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def commitment_kind_codes(self):
        return [kind["code"] for kind in self.commitment_kinds]


class Membership(models.Model):
    class Role(models.TextChoices):
        ORGANIZER = "organizer", _("Organizer")
        FIELD_LEAD = "field_lead", _("Field lead")
        VOLUNTEER = "volunteer", _("Volunteer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "campaign"], name="membership_unique_user")
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.campaign}"


class Volunteer(models.Model):
    """Someone who knocks doors. Volunteers need no login: they use assignment links."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="volunteers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer_profiles",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = PhoneNumberField()
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=10, default="en")
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_name", "last_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class Shift(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(max_length=300, blank=True)
    capacity = models.PositiveIntegerField(default=10)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="shift_ends_after_start",
            )
        ]

    def __str__(self):
        local = timezone.localtime(self.starts_at, self.campaign.tz)
        return self.name or f"Shift {local:%a %b %d %H:%M}"


class ShiftSignup(models.Model):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        CONFIRMED = "confirmed", _("Confirmed")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="signups")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SIGNED_UP)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "volunteer"], name="signup_unique_volunteer")
        ]

    def __str__(self):
        return f"{self.volunteer} @ {self.shift}"


class AuditEvent(models.Model):
    """Who did what to which data: exports, imports, bulk reads, logins."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=60, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor or 'system'} {self.action}"
