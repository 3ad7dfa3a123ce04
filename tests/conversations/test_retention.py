"""Retention: once a campaign's period has passed, story words and phone numbers go, the
numbers stay, and the audit log says what was done; finished imports' files are deleted."""

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from canvass.models import AuditEvent
from conversations import tasks
from conversations.models import Channel, Commitment, InboundSms, Reminder, StoryNote, Visit
from conversations.services.lifecycle import (
    RETENTION_ACTION,
    campaign_retention_apply,
    import_files_delete,
)
from tests.conversations.test_erasure import rows_containing
from tests.factories import (
    CommitmentFactory,
    PersonFactory,
    ReminderFactory,
    StoryNoteFactory,
    VisitFactory,
)
from turf.models import ImportJob, Person

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LONG_AGO = timezone.now() - timedelta(days=60)
OLD_PHONE, OPEN_PHONE, RECENT_PHONE = "+15125550161", "+15125550162", "+15125550163"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def person_with_story(campaign, *, phone, story, when, commitment_status=None):
    person = PersonFactory(campaign=campaign, phone=phone, email=f"{phone[-4:]}@example.org")
    Person.objects.filter(pk=person.pk).update(created_at=when)
    visit = VisitFactory(campaign=campaign, person=person, happened_at=when, note="Dog in yard")
    StoryNoteFactory(
        visit=visit, story=story, why="Because", rating_before=2, rating_after=6, themes=["Rent"]
    )
    if commitment_status:
        commitment = CommitmentFactory(
            campaign=campaign,
            person=person,
            visit=visit,
            status=commitment_status,
            channel=Channel.SMS,
            phone=phone,
        )
        Commitment.objects.filter(pk=commitment.pk).update(updated_at=when)
        ReminderFactory(
            campaign=campaign, commitment=commitment, to=phone, status=Reminder.Status.SENT
        )
    InboundSms.objects.create(
        provider_id=f"SM-{phone[-4:]}",
        from_number=phone,
        body="Yes",
        handled_as="yes",
        campaign=campaign,
        received_at=when,
    )
    return person


@pytest.fixture
def three(campaign):
    campaign.retention_days = 30
    campaign.save()
    return {
        "old": person_with_story(
            campaign,
            phone=OLD_PHONE,
            story="Old story",
            when=LONG_AGO,
            commitment_status=Commitment.Status.KEPT,
        ),
        "open": person_with_story(
            campaign,
            phone=OPEN_PHONE,
            story="Open story",
            when=LONG_AGO,
            commitment_status=Commitment.Status.OPEN,
        ),
        "recent": person_with_story(
            campaign,
            phone=RECENT_PHONE,
            story="Recent story",
            when=timezone.now(),
        ),
    }


def numbers(campaign):
    notes = StoryNote.objects.filter(visit__campaign=campaign).order_by("pk")
    return {
        "visits": Visit.objects.filter(campaign=campaign).count(),
        "outcomes": sorted(
            Visit.objects.filter(campaign=campaign).values_list("outcome", flat=True)
        ),
        "ratings": list(notes.values_list("rating_before", "rating_after", "themes")),
        "commitments": sorted(Commitment.objects.values_list("status", flat=True)),
    }


def test_past_retention_words_and_numbers_go_and_the_counts_stay(campaign, three):
    before = numbers(campaign)
    assert rows_containing(OLD_PHONE) and rows_containing("Old story")
    counts = campaign_retention_apply(campaign=campaign)

    assert counts == {"notes": 1, "people": 1}
    assert rows_containing("Old story") == {}
    assert rows_containing(OLD_PHONE) == {}
    old_note = StoryNote.objects.get(visit__person=three["old"])
    assert (old_note.why, old_note.values_feelings, old_note.visit.note) == ("", "", "")
    # An open commitment keeps its person reachable and their story; so does a recent visit.
    for kept, phone in (("Open story", OPEN_PHONE), ("Recent story", RECENT_PHONE)):
        assert StoryNote.objects.filter(story=kept).exists()
        assert Person.objects.filter(phone=phone).exists()
    assert numbers(campaign) == before
    audit = AuditEvent.objects.get(action=RETENTION_ACTION)
    assert audit.detail["notes"] == 1 and audit.detail["people"] == 1
    assert audit.detail["retention_days"] == 30

    # A second run finds nothing left to do and says nothing.
    assert campaign_retention_apply(campaign=campaign) == {"notes": 0, "people": 0}
    assert AuditEvent.objects.filter(action=RETENTION_ACTION).count() == 1


def test_nothing_is_redacted_before_the_period_has_passed(campaign, three):
    campaign.retention_days = 90
    campaign.save()
    assert campaign_retention_apply(campaign=campaign) == {"notes": 0, "people": 0}
    assert StoryNote.objects.filter(story="Old story").exists()
    assert not AuditEvent.objects.filter(action=RETENTION_ACTION).exists()


def test_finished_imports_lose_their_file_and_keep_the_bad_rows_report(campaign):
    report = [{"row": 3, "column": "phone", "reason": "not a phone number"}]
    done = ImportJob.objects.create(
        campaign=campaign, status=ImportJob.Status.DONE, error_report=report
    )
    done.file.save("voters.csv", ContentFile(b"id,name\n1,Ana\n"))
    waiting = ImportJob.objects.create(campaign=campaign, status=ImportJob.Status.PENDING)
    waiting.file.save("waiting.csv", ContentFile(b"id,name\n2,Bo\n"))
    done_path, waiting_path = done.file.path, waiting.file.path

    assert tasks.retention_apply() == 1
    done.refresh_from_db()
    assert not done.file and done.error_report == report
    assert not os.path.exists(done_path)
    waiting.refresh_from_db()
    assert waiting.file and os.path.exists(waiting_path)
    assert import_files_delete() == 0
