"""Writes for shifts and their signups: the rules every path goes through.

The organizer's shift pages, the public signup page, the personal link, the check-in
screen, the Django admin, the demo and the no-show sweep all change shifts and signups
through these functions, so capacity, the waitlist and the time rules hold the same
way on each path. A signup is decided under a lock on its shift's row: fifty people
taking the last five spots at once get five spots and forty-five waitlist places.

Every function takes `now` for the demo and the tests, which replay what happened at
the time it happened; everyone else leaves it out.
"""

import hashlib
import hmac
import secrets
import uuid
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from canvass.models import (
    EXPECTED,
    HOLDING,
    AuditEvent,
    Membership,
    Shift,
    ShiftSignup,
    Volunteer,
    hash_link_token,
)
from canvass.phones import phone_normalize

Status = ShiftSignup.Status
Source = ShiftSignup.Source

# Signed up or confirmed and never checked in, this long after the end: a no-show.
NO_SHOW_AFTER = timedelta(hours=1)
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


class SignupEvent(models.TextChoices):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    CHANGED = "changed"
    SHIFT_MOVED = "shift_moved"
    SHIFT_CANCELLED = "shift_cancelled"


def signup_notify(*, signup, event):
    """Tell the volunteer what just happened to their signup (`event`, a SignupEvent).

    This is the one place a signup, a waitlist place, a promotion, a cancellation or a
    moved or cancelled shift is told to the volunteer. For now it writes nothing: the
    confirmation and the reminders through the outbox (with the personal link from
    `signup_link_token`) are the next step and fill this function in. Callers call it
    inside the transaction that made the change, so whatever it writes commits with it.
    """
    return None


# --- The personal link ------------------------------------------------------


def _link_token(nonce):
    message = f"porchlight:shift-signup-link:{nonce}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def _link_new(signup):
    """Give `signup` a fresh personal link (not saved); returns its token.

    Only the token's hash is stored, as for assignment links. The token is derived
    from a random nonce with the SECRET_KEY rather than drawn at random, so that a
    reminder written later (when the shift moves) can carry the same link again.
    """
    signup.link_nonce = secrets.token_hex(16)
    token = _link_token(signup.link_nonce)
    signup.token_hash = hash_link_token(token)
    signup.link_revoked_at = None
    return token


def signup_link_token(signup):
    """The token of `signup`'s current personal link, or None when it has none."""
    if not signup.link_nonce or signup.link_revoked_at is not None:
        return None
    return _link_token(signup.link_nonce)


def signup_link(token):
    return f"{settings.SITE_URL}{reverse('signup_manage', args=[token])}"


@transaction.atomic
def signup_link_reissue(*, signup):
    """A new personal link for `signup`; the old one stops working. Returns the token."""
    signup = ShiftSignup.objects.select_for_update().get(pk=signup.pk)
    token = _link_new(signup)
    signup.save(update_fields=["link_nonce", "token_hash", "link_revoked_at", "updated_at"])
    return token


def signup_link_revoke(*, signup, now=None):
    """Turn the personal link off (it was sent to the wrong person). Returns whether it was on."""
    return bool(
        ShiftSignup.objects.filter(pk=signup.pk, link_revoked_at__isnull=True).update(
            link_revoked_at=now or timezone.now()
        )
    )


# --- Shifts -----------------------------------------------------------------


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
    moved = shift is None or starts_at != shift.starts_at or ends_at != shift.ends_at
    if ends_at <= starts_at:
        errors["ends_at"] = _(
            "The shift ends before it starts. Give an end time after the start (%(start)s)."
        ) % {"start": _when(campaign, starts_at)}
    if moved and shift is not None and shift.ends_at <= now:
        errors["starts_at"] = _(
            "This shift is over, so its times cannot change. Copy it to plan a new one."
        )
    elif moved and starts_at <= now:
        errors["starts_at"] = _(
            "%(start)s is in the past. Pick a start time still to come (times are in %(tz)s)."
        ) % {"start": _when(campaign, starts_at), "tz": campaign.timezone}
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
        expected = list(shift.signups.filter(status__in=EXPECTED).select_related("volunteer"))
        ShiftSignup.objects.filter(pk__in=[s.pk for s in expected]).update(
            plan_version=models.F("plan_version") + 1
        )
        for signup in expected:
            signup_notify(signup=signup, event=SignupEvent.SHIFT_MOVED)
    _waitlist_promote(shift, now=now)
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
        signup_notify(signup=signup, event=SignupEvent.SHIFT_CANCELLED)
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


# --- Volunteers -------------------------------------------------------------


def volunteer_details_clean(
    *, campaign, first_name, phone="", email="", remind_by_sms=False, remind_by_email=False
):
    """(phone in E.164, email) from what someone typed, or one ValidationError naming every
    field that is wrong: a phone is checked with phonenumbers in the campaign's region."""
    errors = {}
    if not (first_name or "").strip():
        errors["first_name"] = _("Give at least a first name.")
    try:
        phone = phone_normalize(phone, region=campaign.phone_region)
    except ValidationError as error:
        errors["phone"] = error.messages[0]
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("“%(email)s” is not an email address. Check it for typos.") % {
                "email": email
            }
    if "phone" not in errors and "email" not in errors:
        if not phone and not email:
            errors["phone"] = _("Give a phone number or an email address, so we can reach you.")
        if remind_by_sms and not phone:
            errors["remind_by_sms"] = _(
                "Text reminders need a phone number. Add one, or untick texts."
            )
        if remind_by_email and not email:
            errors["remind_by_email"] = _(
                "Email reminders need an email address. Add one, or untick email."
            )
    if errors:
        raise ValidationError(errors)
    return phone, email


def _volunteer_find(campaign, phone, email):
    volunteers = Volunteer.objects.filter(campaign=campaign)
    return volunteers.with_phone(phone).first() or volunteers.with_email(email).first()


def volunteer_find_or_create(
    *, campaign, first_name, last_name="", phone="", email="", language=""
):
    """The campaign's volunteer with this phone, else this email, else a new one.
    Returns (volunteer, created).

    Someone who comes back is recognised, never duplicated. What they typed fills only
    what the row lacks: a public form never overwrites a name, number or address
    already on file (anyone may type anyone's number).
    """
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    phone, email = volunteer_details_clean(
        campaign=campaign, first_name=first_name, phone=phone, email=email
    )
    language = language if language in dict(settings.LANGUAGES) else ""
    volunteer = _volunteer_find(campaign, phone, email)
    if volunteer is None:
        try:
            with transaction.atomic():
                volunteer = Volunteer.objects.create(
                    campaign=campaign,
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                    email=email,
                    language=language or settings.LANGUAGE_CODE,
                )
                return volunteer, True
        except IntegrityError:
            # The same person, a moment earlier, in another request.
            volunteer = _volunteer_find(campaign, phone, email)
            if volunteer is None:
                raise
    changed = []
    if (
        phone
        and not volunteer.phone
        and not Volunteer.objects.filter(campaign=campaign).with_phone(phone).exists()
    ):
        volunteer.phone = phone
        changed.append("phone")
    if (
        email
        and not volunteer.email
        and not Volunteer.objects.filter(campaign=campaign).with_email(email).exists()
    ):
        volunteer.email = email
        changed.append("email")
    if not volunteer.active:
        volunteer.active = True
        changed.append("active")
    if changed:
        volunteer.save(update_fields=changed)
    return volunteer, False


# --- Signups ----------------------------------------------------------------


def _lock_shift(shift):
    return Shift.objects.select_for_update().select_related("campaign").get(pk=shift.pk)


def _free_spots(shift):
    return shift.capacity - shift.signups.holding().count()


def _full_error(shift):
    return ValidationError(
        _(
            "This shift is full (%(n)s of %(n)s spots taken). Raise its capacity on the "
            "shift's page first, or put them on the waitlist."
        )
        % {"n": shift.capacity},
        code="full",
    )


def signup_spot_check(*, shift, status, signup=None):
    """Raise a ValidationError when `signup` (None: a new one) may not take `status` on
    `shift`: nobody joins a cancelled shift, and a spot on a full shift is refused."""
    if shift.is_cancelled and status != Status.CANCELLED:
        raise ValidationError(
            _("This shift was cancelled, so its signups cannot change."), code="cancelled"
        )
    if status in HOLDING and (signup is None or not signup.holds_spot) and _free_spots(shift) <= 0:
        raise _full_error(shift)


def _waitlist_promote(shift, *, now):
    """Give free spots to the waitlist, first come first served. Call with the shift locked."""
    if shift.is_cancelled or shift.ends_at <= now:
        return []
    free = _free_spots(shift)
    if free <= 0:
        return []
    promoted = list(shift.signups.waitlist().select_related("volunteer")[:free])
    for signup in promoted:
        signup.status, signup.promoted_at = Status.SIGNED_UP, now
        signup.plan_version += 1
        signup.save(update_fields=["status", "promoted_at", "plan_version", "updated_at"])
        signup_notify(signup=signup, event=SignupEvent.PROMOTED)
    return promoted


def _shift_open_check(shift, *, source, now):
    if shift.is_cancelled:
        raise ValidationError(
            _("This shift was cancelled. Pick another shift on the signup page."), code="cancelled"
        )
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over. Pick one still to come."), code="over")
    if source == Source.PUBLIC and shift.starts_at <= now:
        raise ValidationError(
            _(
                "This shift has already started. Pick a later one, or come to the staging "
                "location and sign in there."
            ),
            code="started",
        )


def signup_reminders_check(*, volunteer, remind_by_sms, remind_by_email):
    """Reminders need the number or address they go to: a ValidationError naming the box."""
    errors = {}
    if remind_by_sms and not volunteer.phone:
        errors["remind_by_sms"] = _("Text reminders need a phone number. Add one, or untick texts.")
    if remind_by_email and not volunteer.email:
        errors["remind_by_email"] = _(
            "Email reminders need an email address. Add one, or untick email."
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def signup_create(
    *,
    shift,
    volunteer,
    source=Source.ORGANIZER,
    remind_by_sms=False,
    remind_by_email=False,
    status=None,
    now=None,
):
    """Put `volunteer` on `shift`. Returns (signup, token).

    A free spot makes them signed up, a full shift puts them on the waitlist; asking
    for a `status` that takes a spot (an organizer's "signed up", a walk-in's "checked
    in") on a full shift is refused instead. Someone already on the shift gets their
    signup back unchanged and no token (a new link goes only to a new signup: anyone
    may type anyone's number). A cancelled signup comes back at the end of the waitlist.
    """
    now = now or timezone.now()
    if volunteer.campaign_id != shift.campaign_id:
        raise ValidationError(_("The volunteer must belong to the shift's campaign."))
    signup_reminders_check(
        volunteer=volunteer, remind_by_sms=remind_by_sms, remind_by_email=remind_by_email
    )
    if status not in (None, Status.SIGNED_UP, Status.CONFIRMED, Status.ATTENDED, Status.WAITLISTED):
        raise ValidationError(_("A new signup is signed up, confirmed, checked in or waitlisted."))
    shift = _lock_shift(shift)
    _shift_open_check(shift, source=source, now=now)
    _waitlist_promote(shift, now=now)
    signup = (
        ShiftSignup.objects.select_for_update().filter(shift=shift, volunteer=volunteer).first()
    )
    if signup is not None and signup.status != Status.CANCELLED:
        signup.shift = shift
        return signup, None
    if status is not None:
        signup_spot_check(shift=shift, status=status)
    else:
        status = Status.SIGNED_UP if _free_spots(shift) > 0 else Status.WAITLISTED
    signup = signup or ShiftSignup(shift=shift, volunteer=volunteer, plan_version=0)
    signup.shift = shift
    signup.status, signup.source = status, source
    signup.remind_by_sms, signup.remind_by_email = remind_by_sms, remind_by_email
    signup.joined_at = now
    signup.cancelled_at = signup.promoted_at = None
    signup.confirmed_at = now if status == Status.CONFIRMED else None
    signup.checked_in_at = now if status == Status.ATTENDED else None
    signup.plan_version += 1
    token = _link_new(signup)
    signup.save()
    signup_notify(
        signup=signup,
        event=SignupEvent.WAITLISTED if status == Status.WAITLISTED else SignupEvent.SIGNED_UP,
    )
    # An organizer may waitlist someone by hand while spots are free: the line moves at once.
    _waitlist_promote(shift, now=now)
    signup.refresh_from_db()
    return signup, token


@transaction.atomic
def signup_public(
    *,
    shift,
    first_name,
    last_name="",
    phone="",
    email="",
    language="",
    remind_by_sms=False,
    remind_by_email=False,
    now=None,
):
    """A signup from the public page: finds or makes the volunteer, then signs them up.
    Returns (signup, token, returning). All or nothing: a refused signup leaves no volunteer."""
    volunteer_details_clean(
        campaign=shift.campaign,
        first_name=first_name,
        phone=phone,
        email=email,
        remind_by_sms=remind_by_sms,
        remind_by_email=remind_by_email,
    )
    volunteer, created = volunteer_find_or_create(
        campaign=shift.campaign,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        language=language,
    )
    signup, token = signup_create(
        shift=shift,
        volunteer=volunteer,
        source=Source.PUBLIC,
        remind_by_sms=remind_by_sms,
        remind_by_email=remind_by_email,
        now=now,
    )
    return signup, token, not created


def _lock_signup(signup):
    """(shift, signup), both locked, shift first: the order every signup write takes."""
    shift = _lock_shift(signup.shift)
    signup = ShiftSignup.objects.select_for_update().select_related("volunteer").get(pk=signup.pk)
    signup.shift = shift
    return shift, signup


@transaction.atomic
def signup_cancel(*, signup, now=None):
    """Cancel a signup; the first on the waitlist takes the spot. False when already cancelled."""
    now = now or timezone.now()
    shift, signup = _lock_signup(signup)
    if signup.status == Status.CANCELLED:
        return False
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over, so the signup can no longer change."))
    if signup.status == Status.ATTENDED:
        raise ValidationError(_("They are already checked in. Undo the check-in first."))
    signup.status, signup.cancelled_at = Status.CANCELLED, now
    signup.save(update_fields=["status", "cancelled_at", "updated_at"])
    signup_notify(signup=signup, event=SignupEvent.CANCELLED)
    _waitlist_promote(shift, now=now)
    return True


@transaction.atomic
def signup_rejoin(*, signup, now=None):
    """Back on the shift after cancelling, from the personal link: a spot if one is free,
    else the end of the waitlist. The link stays the same (its holder proved it is
    theirs). False when the signup is not cancelled."""
    now = now or timezone.now()
    shift, signup = _lock_signup(signup)
    if signup.status != Status.CANCELLED:
        return False
    _shift_open_check(shift, source=Source.PUBLIC, now=now)
    _waitlist_promote(shift, now=now)
    signup.status = Status.SIGNED_UP if _free_spots(shift) > 0 else Status.WAITLISTED
    signup.joined_at, signup.cancelled_at = now, None
    signup.promoted_at = signup.confirmed_at = None
    signup.plan_version += 1
    signup.save()
    signup_notify(
        signup=signup,
        event=SignupEvent.WAITLISTED
        if signup.status == Status.WAITLISTED
        else SignupEvent.SIGNED_UP,
    )
    return True


@transaction.atomic
def signup_confirm(*, signup, now=None):
    """ "I'll be there": a signed-up volunteer confirms. False when already confirmed."""
    now = now or timezone.now()
    shift, signup = _lock_signup(signup)
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over, so the signup can no longer change."))
    if signup.status == Status.WAITLISTED:
        raise ValidationError(
            _("You are on the waitlist: there is nothing to confirm until a spot opens.")
        )
    if signup.status != Status.SIGNED_UP:
        return False
    signup.status, signup.confirmed_at = Status.CONFIRMED, now
    signup.save(update_fields=["status", "confirmed_at", "updated_at"])
    return True


@transaction.atomic
def signup_preferences_set(*, signup, remind_by_sms, remind_by_email, language=None, now=None):
    """Which reminders they agree to, and their language."""
    now = now or timezone.now()
    shift, signup = _lock_signup(signup)
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over, so the signup can no longer change."))
    signup_reminders_check(
        volunteer=signup.volunteer, remind_by_sms=remind_by_sms, remind_by_email=remind_by_email
    )
    signup.remind_by_sms, signup.remind_by_email = remind_by_sms, remind_by_email
    signup.save(update_fields=["remind_by_sms", "remind_by_email", "updated_at"])
    if language in dict(settings.LANGUAGES) and language != signup.volunteer.language:
        signup.volunteer.language = language
        signup.volunteer.save(update_fields=["language"])
    signup_notify(signup=signup, event=SignupEvent.CHANGED)
    return signup


@transaction.atomic
def signup_check_in(*, signup, checked_in_by=None, now=None):
    """One tap at the staging location. Someone without a spot (waitlisted, cancelled)
    takes one if there is one. False when already checked in."""
    now = now or timezone.now()
    shift, signup = _lock_signup(signup)
    if shift.is_cancelled:
        raise ValidationError(_("This shift was cancelled: there is no one to check in."))
    if signup.status == Status.ATTENDED:
        return False
    signup_spot_check(shift=shift, status=Status.ATTENDED, signup=signup)
    if signup.status == Status.CANCELLED:
        signup.cancelled_at = None
        signup.joined_at = now
    signup.status, signup.checked_in_at, signup.checked_in_by = Status.ATTENDED, now, checked_in_by
    signup.save()
    return True


@transaction.atomic
def signup_check_in_undo(*, signup):
    """A tap on the wrong name: back to signed up (or confirmed, if they had confirmed)."""
    shift, signup = _lock_signup(signup)
    if signup.status != Status.ATTENDED:
        return False
    signup.status = Status.CONFIRMED if signup.confirmed_at else Status.SIGNED_UP
    signup.checked_in_at, signup.checked_in_by = None, None
    signup.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
    return True


@transaction.atomic
def signup_status_set(*, signup, status, changed_by=None, now=None):
    """An organizer sets a status by hand (the admin, a correction after the sweep).
    Goes through the same rules as the rest: capacity, promotion, the shift's times."""
    now = now or timezone.now()
    if status == Status.CANCELLED:
        return signup_cancel(signup=signup, now=now)
    if status == Status.ATTENDED:
        return signup_check_in(signup=signup, checked_in_by=changed_by, now=now)
    shift, signup = _lock_signup(signup)
    if signup.status == status:
        return False
    if status == Status.NO_SHOW and shift.starts_at > now:
        raise ValidationError(_("Nobody is a no-show before the shift has started."))
    signup_spot_check(shift=shift, status=status, signup=signup)
    was = signup.status
    signup.status = status
    if status == Status.CONFIRMED and not signup.confirmed_at:
        signup.confirmed_at = now
    if was == Status.ATTENDED:
        signup.checked_in_at = signup.checked_in_by = None
    if was == Status.CANCELLED:
        signup.cancelled_at = None
    if status == Status.WAITLISTED:
        # Moved down by hand: to the end of the line, behind those already waiting.
        signup.joined_at = now
    signup.save()
    _waitlist_promote(shift, now=now)
    return True


@transaction.atomic
def signup_delete(*, signup, now=None):
    """Remove a signup entirely (the admin's delete); its spot goes to the waitlist."""
    shift, signup = _lock_signup(signup)
    signup.delete()
    _waitlist_promote(shift, now=now or timezone.now())


@transaction.atomic
def signup_walk_in(
    *, shift, first_name, last_name="", phone="", email="", checked_in_by=None, now=None
):
    """Someone who turned up without signing up: found or made as a volunteer, checked in.
    Returns the signup."""
    now = now or timezone.now()
    volunteer, _created = volunteer_find_or_create(
        campaign=shift.campaign,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
    )
    existing = ShiftSignup.objects.filter(shift=shift, volunteer=volunteer).first()
    if existing is not None:
        signup_check_in(signup=existing, checked_in_by=checked_in_by, now=now)
        existing.refresh_from_db()
        return existing
    signup, _token = signup_create(
        shift=shift, volunteer=volunteer, source=Source.WALK_IN, status=Status.ATTENDED, now=now
    )
    ShiftSignup.objects.filter(pk=signup.pk).update(checked_in_by=checked_in_by)
    signup.checked_in_by = checked_in_by
    return signup


@transaction.atomic
def shift_hand_out(*, shift, turf, volunteers, handed_out_by=None, now=None):
    """Hand a turf from the shift's pool to one checked-in volunteer or a pair.
    Returns (assignment, token); the link lasts as long as the shift (turf_assign)."""
    from turf.services import turf_assign

    now = now or timezone.now()
    shift = _lock_shift(shift)
    volunteers = [v for v in volunteers if v is not None]
    if shift.is_cancelled:
        raise ValidationError(_("This shift was cancelled: no turf is handed out for it."))
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over: its turf can no longer be handed out."))
    if not shift.turfs.filter(pk=turf.pk).exists():
        raise ValidationError(
            {
                "turf": _(
                    "“%(turf)s” is not in this shift's pool. Add it on the shift's page first."
                )
                % {"turf": turf.name}
            }
        )
    if not 1 <= len(volunteers) <= 2 or len({v.pk for v in volunteers}) != len(volunteers):
        raise ValidationError({"partner": _("Hand a turf to one volunteer or a pair of two.")})
    here = set(
        shift.signups.filter(status=Status.ATTENDED, volunteer__in=volunteers).values_list(
            "volunteer_id", flat=True
        )
    )
    missing = [str(v) for v in volunteers if v.pk not in here]
    if missing:
        raise ValidationError(
            _("Check in %(names)s first: a turf goes to someone who is here.")
            % {"names": " & ".join(missing)}
        )
    return turf_assign(turf=turf, volunteers=volunteers, shift=shift, assigned_by=handed_out_by)


def signups_no_show_sweep(*, now=None):
    """Those signed up or confirmed and never checked in, NO_SHOW_AFTER past the end of a
    shift that went ahead, become no-shows. Returns how many. Harmless to run twice:
    the status in the filter is what claims each row."""
    now = now or timezone.now()
    return ShiftSignup.objects.filter(
        status__in=(Status.SIGNED_UP, Status.CONFIRMED),
        shift__cancelled_at__isnull=True,
        shift__ends_at__lte=now - NO_SHOW_AFTER,
    ).update(status=Status.NO_SHOW, updated_at=now)
