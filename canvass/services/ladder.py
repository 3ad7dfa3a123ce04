"""The ladder: a "volunteer a shift" said at the door becomes a real signup.

The door screen offers the campaign's next shifts (`ladder_shifts`, in the walk-list
bundle, so it works offline); a commitment sent with one of them is recorded with
`commitment_shift_record`: the person becomes a volunteer (found by phone or email,
never duplicated) with the consent they gave at the door, and is signed up. From then
on the signup decides the commitment: kept on check-in, missed on a no-show, cancelled
with the signup (`signup_commitments_follow`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canvass.models import Shift, ShiftSignup
from canvass.services.notify import shift_when_text
from canvass.services.volunteers import volunteer_find_or_create

Status = ShiftSignup.Status
# The commitment kind that picks a shift (canvass.models.DEFAULT_COMMITMENT_KINDS).
LADDER_KIND = "volunteer_shift"
# How many of the next shifts the door screen offers.
LADDER_SHIFTS = 5


def ladder_shifts(campaign, *, now=None, limit=LADDER_SHIFTS):
    """The campaign's next public shifts, soonest first, as the door screen shows them:
    [{id, label, starts_at, place, free}] (`free`: spots left when the walk list was
    made; a full shift still takes a signup, on its waitlist)."""
    shifts = (
        Shift.objects.open_for_signup(now)
        .filter(campaign=campaign)
        .with_counts()
        .select_related("campaign")
        .order_by("starts_at", "pk")[:limit]
    )
    return [
        {
            "id": shift.pk,
            "label": _shift_label(shift),
            "starts_at": shift.starts_at,
            "place": shift.place,
            "free": max(shift.capacity - shift.signed_up, 0),
        }
        for shift in shifts
    ]


def _shift_label(shift):
    when = shift_when_text(shift.starts_at, shift.campaign.tz)
    return f"{shift.name}, {when}" if shift.name else when


@transaction.atomic
def commitment_shift_record(
    *,
    campaign,
    shift,
    kind,
    what="",
    person=None,
    visit=None,
    when=None,
    owner=None,
    channel="none",
    phone="",
    email="",
    now=None,
):
    """Record a "volunteer a shift" commitment for `shift` and sign the person up for it.
    Returns the commitment (its `shift_signup` set).

    The contact they gave (the commitment's phone or email, else the person's) makes or
    finds their volunteer row; the channel they agreed to at the door becomes the
    signup's reminders. The commitment's own date is the shift's start and it writes no
    messages to the person (the signup's confirmation and reminders are theirs); its
    owner is still reminded. A full shift puts them on its waitlist. Raises
    ValidationError, writing nothing, when the shift is not one they can join or there
    is nobody, or no way, to sign up.
    """
    from canvass.services.signups import signup_create
    from conversations.models import Channel
    from conversations.services.plans import commitment_record

    now = now or timezone.now()
    errors = {}
    if kind != LADDER_KIND:
        errors["shift_id"] = _(
            "Only a “volunteer a shift” commitment signs someone up for a shift."
        )
    if shift.campaign_id != campaign.pk:
        errors["shift_id"] = _("That shift is not one of this campaign's. Pick one listed.")
    if person is None:
        errors["shift_id"] = _("Say who is volunteering: pick the person, or add them.")
    if errors:
        raise ValidationError(errors)
    phone = phone or person.phone
    email = email or person.email
    if not (phone or email):
        raise ValidationError(
            {"phone": _("A shift signup needs their phone number or email address.")}
        )
    commitment = commitment_record(
        campaign=campaign,
        kind=kind,
        what=(what or "").strip() or _shift_label(shift),
        person=person,
        visit=visit,
        when=shift.starts_at,
        owner=owner,
        channel=Channel.NONE,
        phone=phone,
        email=email,
    )
    try:
        volunteer, _created = volunteer_find_or_create(
            campaign=campaign,
            first_name=person.first_name,
            last_name=person.last_name,
            phone=phone,
            email=email,
            language=person.language,
        )
        signup, _token = signup_create(
            shift=shift,
            volunteer=volunteer,
            source=ShiftSignup.Source.DOOR,
            remind_by_sms=channel == Channel.SMS,
            remind_by_email=channel == Channel.EMAIL,
            now=now,
        )
    except ValidationError as error:
        # "This shift is over", "cancelled"…: about the shift they picked.
        if hasattr(error, "error_dict"):
            raise
        raise ValidationError({"shift_id": error.messages}) from None
    commitment.shift_signup = signup
    commitment.save(update_fields=["shift_signup", "updated_at"])
    signup_commitments_follow(signup=signup, now=now)
    return commitment


# The commitment's status for each signup status.
COMMITMENT_FOR_SIGNUP = {
    Status.ATTENDED: "kept",
    Status.NO_SHOW: "missed",
    Status.CANCELLED: "cancelled",
    Status.SIGNED_UP: "open",
    Status.CONFIRMED: "open",
    Status.WAITLISTED: "open",
}


def signup_commitments_follow(*, signup, by=None, now=None):
    """Give the door commitments of `signup` the status its signup now says: kept once
    checked in, missed on a no-show, cancelled with it, open again while still to come.
    Each change is recorded as a follow-up event; leaving "open" cancels the
    commitment's pending reminders. Call inside the signup's transaction."""
    from conversations.models import Commitment, FollowUpEvent
    from conversations.services.plans import commitment_reminders_cancel

    now = now or timezone.now()
    status, when = ShiftSignup.objects.values_list("status", "shift__starts_at").get(pk=signup.pk)
    target = COMMITMENT_FOR_SIGNUP[status]
    changed = 0
    for commitment in Commitment.objects.select_for_update().filter(shift_signup=signup):
        if commitment.status == target:
            if commitment.when != when:  # moved to another shift, or the shift moved
                Commitment.objects.filter(pk=commitment.pk).update(when=when, updated_at=now)
            continue
        if target != Commitment.Status.OPEN:
            commitment_reminders_cancel(
                commitment=commitment, reason=f"The shift signup is {status.replace('_', ' ')}."
            )
        FollowUpEvent.objects.create(
            commitment=commitment,
            outcome=target if target != Commitment.Status.OPEN else "rescheduled",
            note=_("From the shift signup: %(status)s.") % {"status": status.replace("_", " ")},
            status_before=commitment.status,
            status_after=target,
            when_before=commitment.when,
            when_after=when,
            by=by,
            at=now,
        )
        Commitment.objects.filter(pk=commitment.pk).update(status=target, when=when, updated_at=now)
        changed += 1
    return changed


def signup_commitments_move(*, old, new, now=None):
    """A signup moved to another shift (signup_move) takes its door commitments along."""
    from conversations.models import Commitment

    Commitment.objects.filter(shift_signup=old).update(shift_signup=new)
    signup_commitments_follow(signup=new, now=now)
