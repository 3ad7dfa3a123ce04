"""Writes for turf: assignments and their links."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

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
    return assignment, token


def assignment_revoke(*, assignment):
    Assignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
