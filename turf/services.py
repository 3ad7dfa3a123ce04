"""Writes for turf: assignments and their links."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from canvass.models import AuditEvent
from turf.models import Assignment, Turf, hash_token

# A link lives until the end of its shift plus this, and never longer than MAX_LINK_LIFE.
LINK_GRACE = timedelta(hours=12)
MAX_LINK_LIFE = timedelta(days=30)


def assignment_link(token):
    return f"{settings.SITE_URL}{reverse('assignment_open', args=[token])}"


@transaction.atomic
def assignment_create(
    *, turf, volunteers, shift=None, expires_at=None, created_by=None, token=None
):
    """Hand `turf` to one or two volunteers. Returns (assignment, token).

    The token is returned once and only its hash is stored. Passing `token`
    is for the demo, which derives stable tokens so that a rerun prints the same link.
    """
    volunteers = list(volunteers)
    if not 1 <= len(volunteers) <= 2:
        raise ValidationError("Assign a turf to one volunteer or a pair.")
    if any(v.campaign_id != turf.campaign_id for v in volunteers):
        raise ValidationError("Every volunteer must belong to the turf's campaign.")
    now = timezone.now()
    if expires_at is None:
        expires_at = (shift.ends_at if shift else now) + LINK_GRACE
    expires_at = min(expires_at, now + MAX_LINK_LIFE)
    token = token or Assignment.new_token()
    assignment = Assignment.objects.create(
        turf=turf,
        shift=shift,
        token_hash=hash_token(token),
        expires_at=expires_at,
        created_by=created_by,
    )
    assignment.volunteers.set(volunteers)
    Turf.objects.filter(pk=turf.pk, status=Turf.Status.OPEN).update(status=Turf.Status.ASSIGNED)
    AuditEvent.objects.create(
        campaign_id=turf.campaign_id,
        actor=created_by,
        action="assignment.create",
        target=f"assignment:{assignment.pk}",
        detail={
            "turf": turf.pk,
            "volunteers": [v.pk for v in volunteers],
            "shift": shift.pk if shift else None,
            "expires_at": expires_at.isoformat(),
        },
    )
    return assignment, token


@transaction.atomic
def assignment_revoke(*, assignment, revoked_by=None):
    """Turn the link off at once. Visits already recorded through it stay.

    A turf left with no live link goes back to open, so it shows up for assigning.
    Revoking an already revoked assignment changes nothing and writes no audit.
    """
    revoked = Assignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        return False
    turf_id = assignment.turf_id
    if not Assignment.objects.filter(turf_id=turf_id).live().exists():
        Turf.objects.filter(pk=turf_id, status=Turf.Status.ASSIGNED).update(status=Turf.Status.OPEN)
    AuditEvent.objects.create(
        campaign_id=Turf.objects.filter(pk=turf_id).values_list("campaign_id", flat=True).get(),
        actor=revoked_by,
        action="assignment.revoke",
        target=f"assignment:{assignment.pk}",
        detail={"turf": turf_id},
    )
    assignment.refresh_from_db(fields=["revoked_at"])
    return True


@transaction.atomic
def turf_assign(*, turf, volunteers, shift=None, assigned_by=None):
    """Hand `turf` to one volunteer or a pair for `shift`. Returns (assignment, token).

    Whoever held the turf for the same shift loses their link (a reassignment
    mid-shift): their assignment is revoked, never deleted, so every visit
    already recorded through it keeps pointing at it. Links for other shifts stay.
    """
    # Lock the turf so two organizers reassigning at once leave one live link.
    turf = Turf.objects.select_for_update().get(pk=turf.pk)
    if shift is not None and shift.campaign_id != turf.campaign_id:
        raise ValidationError("The shift must belong to the turf's campaign.")
    if turf.status == Turf.Status.DONE:
        raise ValidationError(f"“{turf.name}” is marked done. Reopen it before assigning it.")
    replaced = list(Assignment.objects.live().filter(turf=turf, shift=shift))
    for old in replaced:
        assignment_revoke(assignment=old, revoked_by=assigned_by)
    return assignment_create(turf=turf, volunteers=volunteers, shift=shift, created_by=assigned_by)


@transaction.atomic
def assignment_reissue(*, assignment, issued_by=None):
    """A new link for the same turf, volunteers and shift; the old link stops working.

    For a lost link: the token is shown only once, so it cannot be shown again.
    Returns (new_assignment, token).
    """
    if not assignment.is_live:
        # Its shift is over or the organizer turned it off on purpose: a fresh
        # assignment, with a shift, is the way back.
        raise ValidationError("This link has already ended. Assign the turf again instead.")
    volunteers = list(assignment.volunteers.all())
    assignment_revoke(assignment=assignment, revoked_by=issued_by)
    return assignment_create(
        turf=assignment.turf,
        volunteers=volunteers,
        shift=assignment.shift,
        created_by=issued_by,
    )


def turf_status_set(*, turf, status, changed_by=None):
    """Mark a turf done, or reopen it. Assigned/open follow from its links."""
    if status not in (Turf.Status.DONE, Turf.Status.OPEN):
        raise ValidationError("A turf can only be marked done or reopened.")
    if status == Turf.Status.OPEN and Assignment.objects.filter(turf=turf).live().exists():
        status = Turf.Status.ASSIGNED
    Turf.objects.filter(pk=turf.pk).update(status=status)
    turf.status = status
    AuditEvent.objects.create(
        campaign_id=turf.campaign_id,
        actor=changed_by,
        action="turf.status",
        target=f"turf:{turf.pk}",
        detail={"status": status},
    )
