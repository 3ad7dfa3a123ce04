"""Writes for turf: assignments and their links."""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from canvass.models import AuditEvent, validate_timezone
from turf.models import Assignment, Person, Turf, hash_token

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

    Only the token's hash is stored, with a salt from which the server (holding
    SECRET_KEY) can derive the token again to show the link later. Passing `token` is
    for the demo, which derives stable tokens so that a rerun prints the same link.
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
    salt = ""
    if token is None:
        salt = secrets.token_hex(16)
        token = Assignment.token_from_salt(salt)
    assignment = Assignment.objects.create(
        turf=turf,
        shift=shift,
        token_hash=hash_token(token),
        link_salt=salt,
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

    For a link that got into the wrong hands, or one made to be shown only once.
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


# --- Sending the link ------------------------------------------------------------

_REQUEST_KEY = re.compile(r"[0-9a-f]{32}")
LINK_SEND_PREFIX = "assignment-link"


def assignment_link_sent(assignment):
    """The outbox rows that carried this assignment's link, newest first."""
    from conversations.models import Reminder

    return Reminder.objects.filter(
        campaign_id=assignment.turf.campaign_id,
        idempotency_key__startswith=f"{LINK_SEND_PREFIX}:{assignment.pk}:",
    ).order_by("-created_at", "-pk")


def _link_message(*, assignment, volunteer, link, channel):
    tz = assignment.turf.campaign.tz
    until = timezone.localtime(assignment.expires_at, tz).strftime("%a %b %-d, %H:%M")
    shift = f" for {assignment.shift.name}" if assignment.shift else ""
    sender = assignment.turf.campaign.sender_name or assignment.turf.campaign.name
    from conversations.models import STOP_LINE, Channel

    if channel == Channel.SMS:
        body = (
            f"Hi {volunteer.first_name}, it's {sender}: your walk list{shift}, "
            f"{assignment.turf.name}: {link} (works until {until}).{STOP_LINE}"
        )
        return "", body
    subject = f"Your walk list: {assignment.turf.name}"
    body = (
        f"Hi {volunteer.first_name},\n\n"
        f"Here is your walk list{shift}: {assignment.turf.name}.\n"
        f"Open this link on your phone (no password needed):\n\n{link}\n\n"
        f"It works until {until}. Please keep it to yourself: anyone with the link can "
        f"open this walk list.\n\n{sender}\n"
    )
    return subject, body


def assignment_link_send(*, assignment, volunteer, channel, request_key, sent_by=None):
    """Send the link to one of the assignment's volunteers by text or email. Returns
    (reminder, goes_out_at): the outbox row and, when the recipient's quiet hours hold it
    back, the local time it will go (else None).

    Goes through the outbox like every message: quiet hours, opt-outs and the
    at-most-once delivery hold. `request_key` (32 hex digits, one per form shown) makes
    a double submit one message; sending again later is a new key and a new message.
    """
    from conversations.models import Channel, OptOut, Reminder
    from conversations.services.delivery import quiet_until, recipient_timezone, reminder_create

    if not _REQUEST_KEY.fullmatch(request_key or ""):
        raise ValidationError("This form has expired. Reload the page and send again.")
    if channel not in (Channel.SMS, Channel.EMAIL):
        raise ValidationError("Send the link by text or by email.")
    if not assignment.volunteers.filter(pk=volunteer.pk).exists():
        raise ValidationError(f"{volunteer} is not on this assignment.")
    if not assignment.is_live:
        raise ValidationError("This link has ended. Assign the turf again to send a new one.")
    to = volunteer.phone if channel == Channel.SMS else volunteer.email
    if not to:
        kind = "phone number" if channel == Channel.SMS else "email address"
        raise ValidationError(
            f"{volunteer} has no {kind} on file. Add one, or send it another way."
        )
    if OptOut.objects.filter(address=to.strip().lower()).exists():
        raise ValidationError(
            f"{to} has opted out of messages from this campaign, so nothing is sent there. "
            "Show them the QR code instead."
        )
    token = assignment.link_token()
    if token is None:
        raise ValidationError(
            "This link can no longer be shown or sent (it was shown once when it was made). "
            "Make a new link for the turf, and send that one."
        )
    subject, body = _link_message(
        assignment=assignment, volunteer=volunteer, link=assignment_link(token), channel=channel
    )
    now = timezone.now()
    key = f"{LINK_SEND_PREFIX}:{assignment.pk}:{volunteer.pk}:{request_key}"
    with transaction.atomic():
        already = Reminder.objects.filter(idempotency_key=key).first()
        if already is not None:  # the same form sent twice: one message
            return already, None
        reminder = reminder_create(
            campaign=assignment.turf.campaign,
            channel=channel,
            to=to,
            subject=subject,
            body=body,
            send_at=now,
            idempotency_key=key,
            recipient_name=str(volunteer),
            recipient_tz=volunteer.timezone,
        )
        AuditEvent.objects.create(
            campaign_id=assignment.turf.campaign_id,
            actor=sent_by,
            action="assignment.link_send",
            target=f"assignment:{assignment.pk}",
            detail={"volunteer": volunteer.pk, "channel": channel, "reminder": reminder.pk},
        )
    local_now = now.astimezone(recipient_timezone(reminder))
    return reminder, quiet_until(assignment.turf.campaign, local_now)


def person_details_set(*, person, language, time_zone, by=None):
    """Record the language a person speaks and the zone they live in (an IANA name), as an
    organizer heard them. Blank keeps nothing (the campaign's language; the zone from their
    address or number). Raises ValidationError, changing nothing, on a language Porchlight
    does not speak or a zone that is not one. Audited (which fields, not their values)."""
    language, time_zone = (language or "").strip(), (time_zone or "").strip()
    errors = {}
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = f"“{language}” is not a language messages can go out in."
    if time_zone:
        try:
            validate_timezone(time_zone)
        except ValidationError as exc:
            errors["timezone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    changed = [
        field
        for field, value in (("language", language), ("timezone", time_zone))
        if getattr(person, field) != value
    ]
    if changed:
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).update(language=language, timezone=time_zone)
            AuditEvent.objects.create(
                campaign_id=person.campaign_id,
                actor=by,
                action="person.details",
                target=f"person:{person.pk}",
                detail={"changed": changed},
            )
        person.language, person.timezone = language, time_zone
    return person
