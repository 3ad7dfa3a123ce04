"""Campaigns, the people who run them, and their time: shifts and sign-ups."""

import hashlib
import unicodedata
import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
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


# How voter files and people write a language, folded (lower case, no accents or
# punctuation), for the languages Porchlight speaks.
_LANGUAGE_SPELLINGS = {
    "en": {"en", "eng", "english", "ingles"},
    "es": {"es", "spa", "sp", "esp", "spanish", "espanol", "castellano"},
}


def language_code(text):
    """The code in settings.LANGUAGES for a recorded language ("es" for "Spanish", "SPA",
    "español" or "es-MX"), or "" when it is blank or one Porchlight does not speak."""
    folded = unicodedata.normalize("NFKD", text or "")
    folded = "".join(c for c in folded if c.isalpha() or c in "-_").lower()
    codes = {code for code, _name in settings.LANGUAGES}
    for candidate in (folded, folded.replace("_", "-").split("-")[0]):
        if candidate in codes:
            return candidate
        for code, spellings in _LANGUAGE_SPELLINGS.items():
            if candidate in spellings and code in codes:
                return code
    return ""


def validate_street_list(value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError('Give a list of street names, e.g. ["Mill Lane", "Rose Court"].')


SCRIPT_FIELDS = ("rating_question", "story_themes")


def validate_script_translations(value):
    """{"es": {"rating_question": "…", "story_themes": {"Housing": "Vivienda", …}}}: the
    door script in another language; themes map the campaign's own words to that
    language's (a visit keeps the campaign's words, whatever language it was written in)."""
    languages = {code for code, _ in settings.LANGUAGES}
    if not isinstance(value, dict):
        raise ValidationError('Give an object per language, e.g. {"es": {"rating_question": …}}.')
    for language, script in value.items():
        if language not in languages:
            raise ValidationError(f"“{language}” is not one of the languages: {sorted(languages)}.")
        if not isinstance(script, dict) or set(script) - set(SCRIPT_FIELDS):
            raise ValidationError(f"Per language, give only {', '.join(SCRIPT_FIELDS)}.")
        question = script.get("rating_question", "")
        if not isinstance(question, str) or len(question) > 300:
            raise ValidationError("The question is text of at most 300 characters.")
        themes = script.get("story_themes", {})
        if not isinstance(themes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 100 for k, v in themes.items()
        ):
            raise ValidationError("Themes map each theme to its words, at most 100 characters.")


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/Chicago", validators=[validate_timezone]
    )
    # Messages to a person go out in their own language (recorded at the door or in the
    # voter file) when Porchlight speaks it, else in this one.
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text="The language of messages to people whose own is not recorded.",
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
    script_translations = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_script_translations],
        help_text="The rating question and story themes in other languages, shown on the "
        "door screen in that language (set on the campaign's door script page).",
    )
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
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Organizers and field leads must confirm each login with a code from an "
        "authenticator app (TOTP) before they open this campaign.",
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


class VolunteerQuerySet(models.QuerySet):
    def with_phone(self, phone):
        return self.filter(phone=phone) if phone else self.none()

    def with_email(self, email):
        return self.filter(email__iexact=email) if email else self.none()


class Volunteer(models.Model):
    """Someone who knocks doors. Volunteers need no login: they use assignment links.

    One row per person in a campaign: a phone number or an email address belongs to at
    most one volunteer, so someone who signs up again is recognised, not duplicated.
    """

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

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["first_name", "last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "phone"],
                condition=~models.Q(phone=""),
                name="volunteer_unique_phone",
                violation_error_message=_(
                    "Another volunteer of this campaign has this phone number: find them in "
                    "the list (search by the number) instead of adding them again."
                ),
            ),
            models.UniqueConstraint(
                "campaign",
                Lower("email"),
                condition=~models.Q(email=""),
                name="volunteer_unique_email",
                violation_error_message=_(
                    "Another volunteer of this campaign has this email address: find them in "
                    "the list (search by the address) instead of adding them again."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class ShiftQuerySet(models.QuerySet):
    def active(self):
        return self.filter(cancelled_at__isnull=True)

    def open_for_signup(self, now=None):
        """What the public signup page lists: public, not cancelled, not started yet."""
        return self.active().filter(public=True, starts_at__gt=now or timezone.now())

    def with_counts(self):
        """Each shift with `signed_up` (spots taken), `waitlisted`, `confirmed` and
        `checked_in`, counted in one pass over its signups."""
        Status = ShiftSignup.Status
        return self.annotate(
            signed_up=models.Count("signups", filter=models.Q(signups__status__in=HOLDING)),
            waitlisted=models.Count("signups", filter=models.Q(signups__status=Status.WAITLISTED)),
            confirmed=models.Count(
                "signups",
                filter=models.Q(signups__status__in=HOLDING, signups__confirmed_at__isnull=False),
            ),
            checked_in=models.Count("signups", filter=models.Q(signups__status=Status.ATTENDED)),
        )


class Shift(models.Model):
    """A time and a staging location where volunteers meet and get their turf.

    Times are stored in UTC and entered and shown in the campaign's time zone.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(
        max_length=300, blank=True, verbose_name=_("staging location"), help_text=_("An address.")
    )
    place_lat = models.FloatField(null=True, blank=True, verbose_name=_("latitude"))
    place_lng = models.FloatField(null=True, blank=True, verbose_name=_("longitude"))
    capacity = models.PositiveIntegerField(default=10)
    notes = models.TextField(
        blank=True, help_text=_("For volunteers: what to bring, where to park, who to ask for.")
    )
    # The turfs handed out at this shift's check-in.
    turfs = models.ManyToManyField("turf.Turf", blank=True, related_name="shift_pools")
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shifts_in_charge",
        verbose_name=_("contact person"),
        help_text=_("The organizer in charge, named on the signup page."),
    )
    public = models.BooleanField(
        default=True, help_text=_("Listed on the campaign's public signup page.")
    )
    # Shared by the shifts one "repeat" made; each stays editable on its own.
    series = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="shift_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="shift_capacity_at_least_one"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "starts_at"])]

    def __str__(self):
        local = timezone.localtime(self.starts_at, self.campaign.tz)
        return self.name or f"Shift {local:%a %b %d %H:%M}"

    @property
    def is_cancelled(self):
        return self.cancelled_at is not None

    def local_start(self):
        return timezone.localtime(self.starts_at, self.campaign.tz)

    def local_end(self):
        return timezone.localtime(self.ends_at, self.campaign.tz)


def hash_link_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class ShiftSignupQuerySet(models.QuerySet):
    def for_token(self, token):
        return self.filter(token_hash=hash_link_token(token))

    def holding(self):
        """Signups that take one of the shift's spots."""
        return self.filter(status__in=HOLDING)

    def waitlist(self):
        """Those waiting for a spot, first come first served."""
        return self.filter(status=ShiftSignup.Status.WAITLISTED).order_by("joined_at", "pk")


class ShiftSignup(models.Model):
    """One volunteer on one shift.

    A signup is never deleted when it is cancelled: its row is what later reminders,
    replies and the ladder from the door point at. The personal link that lets the
    volunteer see, change or cancel it is a secret of which only the hash is stored.
    """

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waitlist")
        ATTENDED = "attended", _("Checked in")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        PUBLIC = "public", _("Signup page")
        ORGANIZER = "organizer", _("Added by an organizer")
        WALK_IN = "walk_in", _("Walk-in")
        DOOR = "door", _("At the door")

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="signups")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SIGNED_UP)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ORGANIZER)
    # Which reminders the volunteer agreed to for this signup.
    remind_by_sms = models.BooleanField(default=False, verbose_name=_("text reminders"))
    remind_by_email = models.BooleanField(default=False, verbose_name=_("email reminders"))
    # When they (last) joined: the waitlist's order. A cancelled signup that comes back
    # joins again at the end.
    joined_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Moved up from the waitlist.")
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The personal link: its token is derived from this nonce with the SECRET_KEY (so a
    # message can carry it again later) and only its SHA-256 is stored, as for
    # assignment links; a database dump alone opens nobody's signup.
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    link_revoked_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever what a reminder would say changes (the shift moved, the signup came
    # back): reminder idempotency keys can carry it, as commitments' plan_version.
    plan_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShiftSignupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "volunteer"], name="signup_unique_volunteer"),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="signup_unique_link",
            ),
        ]
        indexes = [models.Index(fields=["shift", "status"])]

    def __str__(self):
        return f"{self.volunteer} @ {self.shift}"

    @property
    def holds_spot(self):
        return self.status in HOLDING

    @property
    def link_is_live(self):
        return (
            bool(self.token_hash)
            and self.link_revoked_at is None
            and self.shift.ends_at > timezone.now()
        )


# Statuses that take one of a shift's spots (a no-show had one and kept it).
HOLDING = (
    ShiftSignup.Status.SIGNED_UP,
    ShiftSignup.Status.CONFIRMED,
    ShiftSignup.Status.ATTENDED,
    ShiftSignup.Status.NO_SHOW,
)
# Statuses of someone still expected, or waiting to be.
EXPECTED = (
    ShiftSignup.Status.SIGNED_UP,
    ShiftSignup.Status.CONFIRMED,
    ShiftSignup.Status.WAITLISTED,
)


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
