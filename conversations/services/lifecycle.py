"""The end of a story: erasure on request, and retention (docs/security.md).

Both keep the numbers the dashboards count — visits, outcomes, ratings, themes, commitments'
kinds and statuses — and remove the words and the ways to reach or find the person.
"""

from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from canvass.models import AuditEvent
from conversations.models import (
    Commitment,
    FollowUpEvent,
    HeldVisit,
    InboundSms,
    OptOut,
    Reminder,
    StoryNote,
    Visit,
)
from conversations.services.inbound import owner_notice_key
from turf.models import ImportJob, Person

FORGOTTEN_NAME = "Forgotten"
ERASED_REASON = "Erased: the person asked to be forgotten."
NOTE_WORDS_BLANK = {"why": "", "story": "", "values_feelings": ""}


def _reminders_erase(reminders, *, reason):
    """Cancel the pending ones, then blank who each was to and what it said."""
    reminders.filter(status=Reminder.Status.PENDING).update(
        status=Reminder.Status.CANCELLED, last_error=reason
    )
    return reminders.update(
        to="", recipient_name="", subject="", body="", provider_id="", last_error=reason
    )


def _admin_history_erase(model, pks):
    """The admin's change history names the object (its str) and what was changed."""
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id__in=[str(pk) for pk in pks],
    ).update(object_repr=FORGOTTEN_NAME, change_message="")


@transaction.atomic
def person_forget(*, person, by):
    """Erase `person` everywhere, in one transaction, at an organizer's request.

    Their name, phone, email, voter id and household link; their story notes' words and the
    volunteers' notes on their visits; their commitments' wording and contact details (open
    ones cancelled); every reminder about those commitments or to their phone or email
    (pending ones cancelled), every text they sent and any held visit about them. Their
    opt-out survives as a keyed one-way hash of each address, so they are never texted
    again, and the person row stays (as "Forgotten") so counts of visits, conversations and
    commitments do not change. The audit row says who did it and when, never what was erased."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.forgotten_at is not None:
        raise ValidationError("This person was already forgotten.")
    now = timezone.now()
    commitments = Commitment.objects.filter(person=person)
    addresses = {person.phone, person.email}
    for phone, email in commitments.values_list("phone", "email"):
        addresses |= {phone, email}
    addresses = {a.strip().lower() for a in addresses if a and a.strip()}
    commitment_ids = list(commitments.values_list("pk", flat=True))
    visit_ids = list(Visit.objects.filter(person=person).values_list("pk", flat=True))

    texts = InboundSms.objects.filter(
        Q(commitment_id__in=commitment_ids) | Q(from_number__in=addresses)
    )
    # The emails that told an owner about their texts quote them.
    notices = [owner_notice_key(pid) for pid in texts.values_list("provider_id", flat=True)]
    _reminders_erase(
        Reminder.objects.filter(
            Q(commitment_id__in=commitment_ids)
            | Q(to__in=addresses)
            | Q(idempotency_key__in=notices)
        ),
        reason=ERASED_REASON,
    )
    texts.delete()
    FollowUpEvent.objects.filter(commitment_id__in=commitment_ids).update(note="")
    # A visit about them that the server would not take holds the phone's copy, words and all.
    HeldVisit.objects.filter(campaign=person.campaign, payload__person_id=person.pk).delete()
    commitments.filter(status=Commitment.Status.OPEN).update(status=Commitment.Status.CANCELLED)
    commitments.update(what="", phone="", email="", updated_at=now)
    StoryNote.objects.filter(visit_id__in=visit_ids).update(**NOTE_WORDS_BLANK)
    Visit.objects.filter(pk__in=visit_ids).update(note="")

    campaign = person.campaign
    OptOut.objects.filter(address__in=addresses).delete()
    for address in addresses:
        OptOut.objects.get_or_create(
            address=OptOut.address_hash(address),
            defaults={"campaign": campaign, "source": "forgotten"},
        )
    Person.objects.filter(pk=person.pk).update(
        first_name=FORGOTTEN_NAME,
        last_name="",
        phone="",
        email="",
        language="",
        timezone="",
        external_id="",
        household=None,
        contact_consent=False,
        do_not_contact=True,
        forgotten_at=now,
    )
    _admin_history_erase(Person, [person.pk])
    _admin_history_erase(Commitment, commitment_ids)
    _admin_history_erase(Visit, visit_ids)
    AuditEvent.objects.create(
        campaign=campaign, actor=by, action="person.forget", target=f"person:{person.pk}"
    )
    person.refresh_from_db()
    return person


# --- Retention ------------------------------------------------------------------------

RETENTION_ACTION = "retention.apply"
# A failed import's file is kept this long, for the organizer to retry it with another mapping.
FAILED_IMPORT_FILE_KEPT = timedelta(days=1)


def _open_people(campaign):
    return Commitment.objects.filter(
        campaign=campaign, status=Commitment.Status.OPEN, person__isnull=False
    ).values("person_id")


def campaign_retention_apply(*, campaign, now=None):
    """Redact what the campaign no longer needs once its retention period has passed.

    A story note's words (and the volunteer's note on its visit) go once the visit is older
    than `campaign.retention_days`, unless its person still has an open commitment. A
    person's phone and email (and those on their closed commitments, their past reminders
    and the texts they sent) go once nothing has happened with them for that long and no
    commitment of theirs is open. Ratings, themes, outcomes and every count stay. Runs
    again harmlessly (only rows with something left to redact are touched); writes one
    audit row saying what it did, when it did anything. Returns the counts."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=campaign.retention_days)
    open_people = _open_people(campaign)
    with transaction.atomic():
        old_visits = Visit.objects.filter(campaign=campaign, happened_at__lt=cutoff).exclude(
            person_id__in=open_people
        )
        words = Q(why__gt="") | Q(story__gt="") | Q(values_feelings__gt="")
        notes = StoryNote.objects.filter(words, visit__in=old_visits).update(**NOTE_WORDS_BLANK)
        old_visits.filter(note__gt="").update(note="")

        people = (
            Person.objects.filter(campaign=campaign, created_at__lt=cutoff)
            .filter(Q(phone__gt="") | Q(email__gt=""))
            .exclude(pk__in=open_people)
            .exclude(visits__happened_at__gte=cutoff)
            .exclude(commitments__updated_at__gte=cutoff)
        )
        person_ids = list(people.values_list("pk", flat=True))
        addresses = set()
        for phone, email in Person.objects.filter(pk__in=person_ids).values_list("phone", "email"):
            addresses |= {a.lower() for a in (phone, email) if a}
        closed = Commitment.objects.filter(person_id__in=person_ids).exclude(
            status=Commitment.Status.OPEN
        )
        for phone, email in closed.values_list("phone", "email"):
            addresses |= {a.lower() for a in (phone, email) if a}
        closed.update(phone="", email="")
        Reminder.objects.filter(
            Q(commitment__in=closed) | Q(to__in=addresses), campaign=campaign
        ).exclude(status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING]).update(to="")
        InboundSms.objects.filter(from_number__in=addresses, received_at__lt=cutoff).update(
            from_number=""
        )
        redacted = Person.objects.filter(pk__in=person_ids).update(phone="", email="")

        counts = {"notes": notes, "people": redacted}
        if notes or redacted:
            AuditEvent.objects.create(
                campaign=campaign,
                action=RETENTION_ACTION,
                target=f"campaign:{campaign.pk}",
                detail={
                    **counts,
                    "retention_days": campaign.retention_days,
                    "cutoff": cutoff.isoformat(),
                },
            )
    return counts


def import_files_delete(*, now=None):
    """Delete the uploaded voter files of finished imports (a failed one's after a day).

    The job keeps its counts and its bad-rows report; only the file, with every voter's
    details in it, goes. Returns how many files were deleted."""
    now = now or timezone.now()
    finished = ImportJob.objects.filter(
        Q(status=ImportJob.Status.DONE)
        | Q(status=ImportJob.Status.FAILED, finished_at__lt=now - FAILED_IMPORT_FILE_KEPT)
    ).exclude(file="")
    deleted = 0
    for job in finished:
        name = job.file.name
        job.file.delete(save=False)
        if ImportJob.objects.filter(pk=job.pk, file=name).update(file="") == 1:
            deleted += 1
            AuditEvent.objects.create(
                campaign_id=job.campaign_id,
                action="voters.import_file_deleted",
                target=f"import {job.pk}: {job.original_name}"[:200],
            )
    return deleted
