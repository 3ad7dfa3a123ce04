"""Where to knock: households, the people in them, turfs and who walks them."""

import base64
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from canvass.models import Campaign, Shift, Volunteer, validate_timezone
from canvass.phones import PhoneNumberField


class HouseholdQuerySet(models.QuerySet):
    def unlocated(self):
        """Households with no point on the map: waiting for the geocoder, or not found."""
        return self.filter(models.Q(lat__isnull=True) | models.Q(lng__isnull=True))

    def located(self):
        return self.filter(lat__isnull=False, lng__isnull=False)


class Household(models.Model):
    class Quality(models.TextChoices):
        """How good a household's location is (blank: not looked up yet)."""

        EXACT = "exact", _("Exact")
        INTERPOLATED = "interpolated", _("Interpolated along the street")
        STREET = "street", _("Street only")
        ZIP_CENTROID = "zip_centroid", _("ZIP code centre")
        FAILED = "failed", _("Not found")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="households")
    house_number = models.CharField(max_length=20, blank=True)
    street = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    # Normalised "number street unit city zip": people at one key are one household.
    address_key = models.CharField(max_length=300)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    precinct = models.CharField(max_length=60, blank=True, db_index=True)
    external_id = models.CharField(max_length=100, blank=True)
    # The parsed street line, normalised: number, predir, name, type, postdir, unit,
    # city, state, zip. Walk order reads the street name and house number from here.
    address_parts = models.JSONField(default=dict, blank=True)
    # Who located it: "file" (the voter file had coordinates), a geocoder's name
    # ("census", "nominatim"), or "manual" (an organizer placed it); blank while pending.
    # Defaults in the database too: the import writes households with its own SQL.
    geocoder = models.CharField(max_length=20, blank=True, default="", db_default="")
    location_quality = models.CharField(
        max_length=20, choices=Quality.choices, blank=True, default="", db_default=""
    )
    # What the geocoder said: the address it matched, or why it found none.
    location_detail = models.CharField(max_length=200, blank=True, default="", db_default="")
    geocoded_at = models.DateTimeField(null=True, blank=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "address_key"], name="household_unique_address"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "street"]),
            models.Index(fields=["campaign", "geocoder"], name="household_geocoder"),
        ]

    def __str__(self):
        return self.address_line

    @property
    def address_line(self):
        line = f"{self.house_number} {self.street}".strip()
        return f"{line}, {self.unit}" if self.unit else line


class PersonQuerySet(models.QuerySet):
    def active(self):
        """People the voter file still lists as active (the ones walk lists are for)."""
        return self.filter(inactive_since__isnull=True)

    def universe(self, *, where=None, at_least=None, below=None):
        """People whose voter-file columns (extra fields) match: a universe to cut turf from.

        `where`: {column: value or [values]}; `at_least` / `below`: {column: number},
        compared as numbers on columns holding digits (a birth year, a district).
        "Unaffiliated voters under 40 in precinct 12" is
        `universe(where={"party_cd": "UNA"}, at_least={"birth_year": this_year - 39})`
        on people whose household's precinct is 12.
        """
        people = self.active()
        for column, value in (where or {}).items():
            values = value if isinstance(value, list | tuple | set) else [value]
            people = people.filter(**{f"extra__{column}__in": [str(v) for v in values]})
        for bounds, lookup in ((at_least, "gte"), (below, "lt")):
            for column, number in (bounds or {}).items():
                # CASE, so text that is not a number is never cast (and never matches).
                text = KeyTextTransform(column, "extra")
                as_number = models.Case(
                    models.When(
                        models.Q(**{f"extra__{column}__regex": r"^[0-9]{1,9}$"}),
                        then=Cast(text, models.IntegerField()),
                    ),
                    default=None,
                )
                name = f"_universe_{column}_{lookup}"
                people = people.annotate(**{name: as_number}).filter(
                    **{f"{name}__{lookup}": number}
                )
        return people


class Person(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="people")
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = PhoneNumberField()
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    # The zone they said they live in (an IANA name), from the door, an organizer or the
    # voter file: their quiet hours are this zone's, before the household's or the number's.
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="Where they live, e.g. America/Anchorage. Blank: from their address or number.",
    )
    # A voter-file or VAN id; unique within a campaign so re-imports update, not duplicate.
    external_id = models.CharField(max_length=100, blank=True)
    contact_consent = models.BooleanField(
        default=False, help_text="Agreed to be contacted by text or email."
    )
    do_not_contact = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an organizer erased them on request (conversations.services.lifecycle).
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    # From the voter file: its status ("active", "inactive", …) and the columns that have
    # no Porchlight field (party, birth year, districts, vote history), by column name.
    voter_status = models.CharField(max_length=20, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    # Set when the voter file says the person is inactive, removed, or no longer there.
    # Never deleted: their visits stay; they leave walk lists not yet assigned.
    inactive_since = models.DateTimeField(null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "external_id"],
                condition=~models.Q(external_id=""),
                name="person_unique_external_id",
            )
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class Turf(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned")
        DONE = "done", _("Done")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="turfs")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    households = models.ManyToManyField(Household, through="TurfStop", related_name="turfs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="turf_unique_name")
        ]

    def __str__(self):
        return self.name


class TurfStop(models.Model):
    """One household on a turf's walk list, at its place in walking order."""

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="stops")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["turf", "position"]
        constraints = [
            models.UniqueConstraint(fields=["turf", "household"], name="turfstop_unique_household"),
            models.UniqueConstraint(fields=["turf", "position"], name="turfstop_unique_position"),
        ]

    def __str__(self):
        return f"{self.turf} #{self.position}"


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class AssignmentQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def for_token(self, token):
        return self.filter(token_hash=hash_token(token))


class Assignment(models.Model):
    """A turf handed to one volunteer or a pair, for a shift, behind a secret link.

    Only the SHA-256 of the link's token is stored, with the salt from which the server
    derives the token again (keyed with SECRET_KEY) to show or send the link later: a
    database dump alone cannot be used to open anyone's walk list.
    """

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    shift = models.ForeignKey(
        Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignments"
    )
    volunteers = models.ManyToManyField(Volunteer, related_name="assignments")
    token_hash = models.CharField(max_length=64, unique=True)
    # The link's token is derived from this and the server's SECRET_KEY, so an organizer
    # can be shown the link again; the salt alone (a database dump) opens nothing.
    # Blank for links made with a token given from outside: those are shown once.
    link_salt = models.CharField(max_length=32, blank=True, default="")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    def __str__(self):
        return f"{self.turf} (until {self.expires_at:%Y-%m-%d %H:%M})"

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(24)

    @staticmethod
    def token_from_salt(salt):
        """The link token a salt stands for, with this server's SECRET_KEY."""
        digest = salted_hmac("porchlight.assignment-link", salt, algorithm="sha256").digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def link_token(self):
        """This link's token, or None when it cannot be shown again (made with a token
        from outside, or before the SECRET_KEY changed)."""
        if not self.link_salt:
            return None
        token = self.token_from_salt(self.link_salt)
        return token if hash_token(token) == self.token_hash else None

    @property
    def is_live(self):
        return self.revoked_at is None and self.expires_at > timezone.now()


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        MAPPING = "mapping", _("Waiting for the column mapping")
        QUEUED = "queued", _("Waiting for a worker")
        READING = "reading", _("Reading rows")
        SAVING = "saving", _("Saving households and people")
        DONE = "done", _("Done")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_jobs")
    file = models.FileField(upload_to="imports/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    preset = models.CharField(max_length=60, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.MAPPING)
    # What the file turned out to be (detected, or set on the mapping step).
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    has_header = models.BooleanField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    # Imported rows with a value left out (a bad phone, email or date): a warning each.
    rows_warned = models.PositiveIntegerField(default=0)
    # Rows the layout says are not doors (removed voters, records exemptions), by reason.
    rows_left_out = models.PositiveIntegerField(default=0)
    left_out = models.JSONField(default=dict, blank=True)
    people_created = models.PositiveIntegerField(default=0)
    people_updated = models.PositiveIntegerField(default=0)
    households_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_report = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The file is the complete list for its area (the precincts it covers): the campaign's
    # voters it no longer holds are marked inactive.
    complete = models.BooleanField(default=False)
    people_inactivated = models.PositiveIntegerField(default=0)
    # Written with the progress while a worker runs the import: a running job whose
    # heartbeat stopped lost its worker (the sweep fails it).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Import {self.original_name or self.pk} ({self.get_status_display()})"


class ImportPreset(models.Model):
    """A column mapping an organizer saved for the next file of the same layout."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_presets")
    name = models.CharField(max_length=60)
    has_header = models.BooleanField(default=True)
    # {field: header name or column position}
    column_mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="importpreset_unique_name")
        ]

    def __str__(self):
        return self.name


class GeocodeCache(models.Model):
    """What a geocoder answered for one address, shared by every campaign.

    Keyed by the address without its unit (every flat of a building is one lookup), so
    a re-import or another campaign never sends the same address twice. A failed
    lookup is kept too; an unreachable geocoder is not an answer and is never cached.
    """

    key = models.CharField(max_length=300, unique=True)
    geocoder = models.CharField(max_length=20)
    quality = models.CharField(max_length=20, choices=Household.Quality.choices)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.key}: {self.get_quality_display()}"


class GeocodeJob(models.Model):
    """One run of the geocoder over a campaign's households still waiting for a location."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Locating")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="geocode_jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    geocoder = models.CharField(max_length=20, blank=True)
    households_total = models.PositiveIntegerField(default=0)
    households_done = models.PositiveIntegerField(default=0)
    located = models.PositiveIntegerField(default=0)
    not_found = models.PositiveIntegerField(default=0)
    from_cache = models.PositiveIntegerField(default=0)
    # Households left waiting because the geocoder could not be reached.
    still_pending = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Geocoding {self.campaign} ({self.get_status_display()})"

    @property
    def percent(self):
        if not self.households_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.households_done * 100 // self.households_total)
