"""At the staging location: walk-ins, handing out turf from the shift's pool, and the
no-show sweep after the end."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canvass.models import ShiftSignup
from canvass.services.ladder import signup_commitments_follow
from canvass.services.signups import lock_shift, signup_check_in, signup_create
from canvass.services.volunteers import volunteer_find_or_create

Status = ShiftSignup.Status
Source = ShiftSignup.Source

# Signed up or confirmed and never checked in, this long after the end: a no-show.
NO_SHOW_AFTER = timedelta(hours=1)


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
    shift = lock_shift(shift)
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
    from conversations.models import Commitment

    now = now or timezone.now()
    due = ShiftSignup.objects.filter(
        status__in=(Status.SIGNED_UP, Status.CONFIRMED),
        shift__cancelled_at__isnull=True,
        shift__ends_at__lte=now - NO_SHOW_AFTER,
    )
    with transaction.atomic():
        # The few that came from a door commitment are marked one by one (each a
        # follow-up event); the rest in one statement.
        from_doors = list(due.filter(pk__in=Commitment.objects.values("shift_signup_id")))
        marked = 0
        for signup in from_doors:
            if due.filter(pk=signup.pk).update(status=Status.NO_SHOW, updated_at=now):
                signup_commitments_follow(signup=signup, now=now)
                marked += 1
        return marked + due.update(status=Status.NO_SHOW, updated_at=now)
