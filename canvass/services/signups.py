"""Signups: capacity under the shift's row lock, the first-come waitlist and its
promotions, and every change to a signup's status.

Every write here locks the shift's row first (`lock_shift`), then the signup's: signups
arriving together for one shift queue on that row, so fifty people taking the last
five spots get five spots and forty-five waitlist places.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canvass.models import HOLDING, Shift, ShiftSignup
from canvass.services import notify
from canvass.services.ladder import signup_commitments_follow, signup_commitments_move
from canvass.services.links import link_new
from canvass.services.notify import SignupEvent
from canvass.services.volunteers import volunteer_details_clean, volunteer_find_or_create

Status = ShiftSignup.Status
Source = ShiftSignup.Source


def lock_shift(shift):
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


def waitlist_promote(shift, *, now):
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
        notify.signup_notify(signup=signup, event=SignupEvent.PROMOTED, now=now)
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
    shift = lock_shift(shift)
    _shift_open_check(shift, source=source, now=now)
    waitlist_promote(shift, now=now)
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
    token = link_new(signup)
    signup.save()
    notify.signup_notify(
        signup=signup,
        event=SignupEvent.WAITLISTED if status == Status.WAITLISTED else SignupEvent.SIGNED_UP,
        now=now,
    )
    # An organizer may waitlist someone by hand while spots are free: the line moves at once.
    waitlist_promote(shift, now=now)
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
    shift = lock_shift(signup.shift)
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
    _cancel(shift, signup, now=now, event=SignupEvent.CANCELLED)
    return True


def _cancel(shift, signup, *, now, event):
    """Call with both rows locked (_lock_signup)."""
    if shift.ends_at <= now:
        raise ValidationError(_("This shift is over, so the signup can no longer change."))
    if signup.status == Status.ATTENDED:
        raise ValidationError(_("They are already checked in. Undo the check-in first."))
    signup.status, signup.cancelled_at = Status.CANCELLED, now
    signup.save(update_fields=["status", "cancelled_at", "updated_at"])
    notify.signup_notify(signup=signup, event=event, now=now)
    if event != SignupEvent.MOVED:  # a move takes its commitments to the new signup
        signup_commitments_follow(signup=signup, now=now)
    waitlist_promote(shift, now=now)


@transaction.atomic
def signup_move(*, signup, shift, now=None):
    """From the personal link: the same volunteer, with the same reminders, onto another
    public shift of the campaign; this signup is cancelled and its spot goes to the
    waitlist. A full shift puts them on its waitlist. Returns (new signup, its token).

    All or nothing: a shift they may not join leaves them where they were.
    """
    now = now or timezone.now()
    # Both shifts locked in one order, so two people moving opposite ways never deadlock.
    list(
        Shift.objects.select_for_update()
        .filter(pk__in=[signup.shift_id, shift.pk])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    current, signup = _lock_signup(signup)
    target = lock_shift(shift)
    if target.pk == current.pk:
        raise ValidationError(_("You are already on this shift. Pick another one to move to."))
    if target.campaign_id != current.campaign_id or not target.public:
        raise ValidationError(_("That shift is not open for signups here. Pick one listed."))
    if signup.status not in (Status.SIGNED_UP, Status.CONFIRMED, Status.WAITLISTED):
        raise ValidationError(_("Only a signup still to come can move to another shift."))
    _shift_open_check(target, source=Source.PUBLIC, now=now)
    there = target.signups.filter(volunteer_id=signup.volunteer_id).exclude(status=Status.CANCELLED)
    if there.exists():
        raise ValidationError(_("You are already signed up for that shift, so nothing changed."))
    _cancel(current, signup, now=now, event=SignupEvent.MOVED)
    moved, token = signup_create(
        shift=target,
        volunteer=signup.volunteer,
        source=Source.PUBLIC,
        remind_by_sms=signup.remind_by_sms,
        remind_by_email=signup.remind_by_email,
        now=now,
    )
    signup_commitments_move(old=signup, new=moved, now=now)
    return moved, token


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
    waitlist_promote(shift, now=now)
    signup.status = Status.SIGNED_UP if _free_spots(shift) > 0 else Status.WAITLISTED
    signup.joined_at, signup.cancelled_at = now, None
    signup.promoted_at = signup.confirmed_at = None
    signup.plan_version += 1
    signup.save()
    notify.signup_notify(
        signup=signup,
        event=SignupEvent.WAITLISTED
        if signup.status == Status.WAITLISTED
        else SignupEvent.SIGNED_UP,
        now=now,
    )
    signup_commitments_follow(signup=signup, now=now)
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
    # The reminders are rewritten (other channels, another language): a new plan.
    signup.plan_version += 1
    signup.save(update_fields=["remind_by_sms", "remind_by_email", "plan_version", "updated_at"])
    if language in dict(settings.LANGUAGES) and language != signup.volunteer.language:
        signup.volunteer.language = language
        signup.volunteer.save(update_fields=["language"])
    notify.signup_notify(signup=signup, event=SignupEvent.CHANGED, now=now)
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
    signup_commitments_follow(signup=signup, by=checked_in_by, now=now)
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
    signup_commitments_follow(signup=signup)
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
    waitlist_promote(shift, now=now)
    signup_commitments_follow(signup=signup, by=changed_by, now=now)
    return True


@transaction.atomic
def signup_delete(*, signup, now=None):
    """Remove a signup entirely (the admin's delete); its spot goes to the waitlist."""
    shift, signup = _lock_signup(signup)
    signup.delete()
    waitlist_promote(shift, now=now or timezone.now())
