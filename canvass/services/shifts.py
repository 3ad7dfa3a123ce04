"""Planning shifts: create, repeat, edit and cancel, in the campaign's time zone."""

import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canvass.models import EXPECTED, AuditEvent, Membership, Shift, ShiftSignup
from canvass.services import notify
from canvass.services.ladder import signup_commitments_follow
from canvass.services.notify import SignupEvent
from canvass.services.signups import waitlist_promote

Status = ShiftSignup.Status

# One "repeat" makes at most this many shifts; a longer run is a mistake in the end date.
MAX_SERIES = 100
SHIFT_FIELDS = (
    "name",
    "starts_at",
    "ends_at",
    "place",
    "place_lat",
    "place_lng",
    "capacity",
    "notes",
    "contact",
    "public",
)


def _when(campaign, moment):
    local = timezone.localtime(moment, campaign.tz)
    return f"{local:%a %b} {local.day}, {local:%H:%M}"


def shift_check(*, campaign, values, now, shift=None):
    """Every rule about a shift's own fields; raises one ValidationError naming each field.

    `values` holds the fields as they would be after the write; on an edit, `shift` is
    the row as it is now (locked), so only what changes is held to "not in the past".
    """
    errors = {}
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    new_start = shift is None or starts_at != shift.starts_at
    new_end = shift is None or ends_at != shift.ends_at
    if ends_at <= starts_at:
        errors["ends_at"] = _(
            "The shift ends before it starts. Give an end time after the start (%(start)s)."
        ) % {"start": _when(campaign, starts_at)}
    if (new_start or new_end) and shift is not None and shift.ends_at <= now:
        errors["starts_at"] = _(
            "This shift is over, so its times cannot change. Copy it to plan a new one."
        )
    elif new_start and starts_at <= now:
        errors["starts_at"] = _(
            "%(start)s is in the past. Pick a start time still to come (times are in %(tz)s)."
        ) % {"start": _when(campaign, starts_at), "tz": campaign.timezone}
    elif new_end and ends_at <= now and "ends_at" not in errors:
        # A running shift may run longer or stop early, but not end before now.
        errors["ends_at"] = _(
            "%(end)s has already passed. Give an end time still to come (times are in %(tz)s)."
        ) % {"end": _when(campaign, ends_at), "tz": campaign.timezone}
    capacity = values["capacity"]
    if capacity is None or capacity < 1:
        errors["capacity"] = _("A shift needs room for at least one volunteer.")
    elif shift is not None:
        taken = shift.signups.holding().count()
        if capacity < taken:
            errors["capacity"] = _(
                "%(taken)s people already hold a spot on this shift, so its capacity cannot "
                "go below %(taken)s. Cancel signups first, or keep %(taken)s or more."
            ) % {"taken": taken}
    lat, lng = values.get("place_lat"), values.get("place_lng")
    if (lat is None) != (lng is None):
        errors["place_lat"] = _("Give both the latitude and the longitude of the pin, or neither.")
    elif lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors["place_lat"] = _("That pin is off the map: latitude −90…90, longitude −180…180.")
    contact = values.get("contact")
    if (
        contact is not None
        and not Membership.objects.filter(
            user=contact,
            campaign=campaign,
            role__in=(Membership.Role.ORGANIZER, Membership.Role.FIELD_LEAD),
        ).exists()
    ):
        errors["contact"] = _(
            "The contact person must be an organizer or field lead of the campaign."
        )
    if errors:
        raise ValidationError(errors)


def _turfs_check(campaign, turfs):
    turfs = list(turfs or [])
    if any(turf.campaign_id != campaign.pk for turf in turfs):
        raise ValidationError({"turfs": _("Every turf in the pool must belong to the campaign.")})
    return turfs


def _shift_values(fields):
    unknown = set(fields) - set(SHIFT_FIELDS)
    if unknown:
        raise TypeError(f"Not a shift field: {', '.join(sorted(unknown))}")
    values = {"place": "", "notes": "", "capacity": 10, "public": True, "contact": None}
    values.update(fields)
    values["name"] = (values.get("name") or "").strip()
    values["place"] = (values.get("place") or "").strip()
    return values


@transaction.atomic
def shift_create(*, campaign, turfs=(), created_by=None, now=None, series=None, **fields):
    """Plan one shift. `fields` are SHIFT_FIELDS; times are aware datetimes."""
    now = now or timezone.now()
    values = _shift_values(fields)
    shift_check(campaign=campaign, values=values, now=now)
    turfs = _turfs_check(campaign, turfs)
    shift = Shift.objects.create(
        campaign=campaign, created_by=created_by, created_at=now, series=series, **values
    )
    shift.turfs.set(turfs)
    return shift


def shift_occurrences(*, campaign, starts_at, ends_at, weekdays, until):
    """The (start, end) of each shift a repeat makes: the first one, then the same local
    times on each of `weekdays` (0 is Monday) after it, up to and including `until`.

    Local times stay put across a daylight-saving change: 10:00 stays 10:00.
    """
    tz = campaign.tz
    first_start, first_end = timezone.localtime(starts_at, tz), timezone.localtime(ends_at, tz)
    if until < first_start.date():
        raise ValidationError(
            {
                "repeat_until": _("Repeat until a date on or after the first shift (%(day)s).")
                % {"day": f"{first_start:%a %b} {first_start.day}"}
            }
        )
    weekdays = set(weekdays) or {first_start.weekday()}
    span = first_end.date() - first_start.date()
    days = [first_start.date()]
    day = first_start.date() + timedelta(days=1)
    while day <= until:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    if len(days) > MAX_SERIES:
        raise ValidationError(
            {
                "repeat_until": _(
                    "That would make %(n)s shifts; one repeat makes at most %(max)s. "
                    "Pick an earlier end date."
                )
                % {"n": len(days), "max": MAX_SERIES}
            }
        )
    return [
        (
            datetime.combine(day, first_start.time(), tzinfo=tz),
            datetime.combine(day + span, first_end.time(), tzinfo=tz),
        )
        for day in days
    ]


@transaction.atomic
def shift_series_create(
    *, campaign, weekdays, until, turfs=(), created_by=None, now=None, **fields
):
    """A repeating shift: one Shift per date (see shift_occurrences), each editable on its
    own, all or none. Returns them in date order."""
    now = now or timezone.now()
    times = shift_occurrences(
        campaign=campaign,
        starts_at=fields["starts_at"],
        ends_at=fields["ends_at"],
        weekdays=weekdays,
        until=until,
    )
    series = uuid.uuid4() if len(times) > 1 else None
    return [
        shift_create(
            campaign=campaign,
            turfs=turfs,
            created_by=created_by,
            now=now,
            series=series,
            **{**fields, "starts_at": starts_at, "ends_at": ends_at},
        )
        for starts_at, ends_at in times
    ]


@transaction.atomic
def shift_update(*, shift, turfs=None, changed_by=None, now=None, **fields):
    """Change a shift. A larger capacity promotes from the waitlist at once; new times
    move the turf links handed out for it and are told to everyone expected."""
    from turf.models import Assignment
    from turf.services import LINK_GRACE, MAX_LINK_LIFE

    now = now or timezone.now()
    shift = Shift.objects.select_for_update().select_related("campaign").get(pk=shift.pk)
    if shift.is_cancelled:
        raise ValidationError(
            _("This shift is cancelled, so it cannot be changed. Copy it to plan a new one.")
        )
    values = {name: getattr(shift, name) for name in SHIFT_FIELDS}
    values.update(_shift_values({**values, **fields}))
    shift_check(campaign=shift.campaign, values=values, now=now, shift=shift)
    moved = values["starts_at"] != shift.starts_at or values["ends_at"] != shift.ends_at
    # A new time or a new staging location is what a reminder says: everyone is told.
    told = moved or values["place"] != shift.place
    for name, value in values.items():
        setattr(shift, name, value)
    shift.save()
    if turfs is not None:
        shift.turfs.set(_turfs_check(shift.campaign, turfs))
    if moved:
        # The links handed out for the shift follow its end, as a fresh one would.
        for assignment in Assignment.objects.live(now).filter(shift=shift):
            assignment.expires_at = min(
                shift.ends_at + LINK_GRACE, assignment.created_at + MAX_LINK_LIFE
            )
            assignment.save(update_fields=["expires_at"])
    if told:
        expected = list(shift.signups.filter(status__in=EXPECTED).select_related("volunteer"))
        ShiftSignup.objects.filter(pk__in=[s.pk for s in expected]).update(
            plan_version=models.F("plan_version") + 1
        )
        for signup in expected:
            notify.signup_notify(signup=signup, event=SignupEvent.SHIFT_MOVED, now=now)
            signup_commitments_follow(signup=signup, now=now)
    waitlist_promote(shift, now=now)
    return shift


@transaction.atomic
def shift_cancel(*, shift, cancelled_by=None, now=None):
    """Cancel a shift: everyone still expected is cancelled and told, its turf links are
    turned off. Returns False when it was already cancelled."""
    from turf.models import Assignment
    from turf.services import assignment_revoke

    now = now or timezone.now()
    shift = Shift.objects.select_for_update().select_related("campaign").get(pk=shift.pk)
    if shift.is_cancelled:
        return False
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over; there is nothing left to cancel."))
    shift.cancelled_at = now
    shift.save(update_fields=["cancelled_at"])
    expected = list(shift.signups.filter(status__in=EXPECTED).select_related("volunteer"))
    for signup in expected:
        signup.status, signup.cancelled_at = Status.CANCELLED, now
        signup.save(update_fields=["status", "cancelled_at", "updated_at"])
        notify.signup_notify(signup=signup, event=SignupEvent.SHIFT_CANCELLED, now=now)
        signup_commitments_follow(signup=signup, by=cancelled_by, now=now)
    for assignment in Assignment.objects.live(now).filter(shift=shift):
        assignment_revoke(assignment=assignment, revoked_by=cancelled_by)
    AuditEvent.objects.create(
        campaign=shift.campaign,
        actor=cancelled_by,
        action="shift.cancel",
        target=f"shift:{shift.pk}",
        detail={"signups_cancelled": len(expected)},
    )
    return True
