"""Rules the database itself enforces for visits, story notes and the outbox.

Writes bypass full_clean() on purpose (save(), bulk_create(), update()): the
sync endpoint, imports and admin actions must not be able to get around them.
"""

import threading
import uuid

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from conversations.models import Reminder, StoryNote, Visit
from tests.factories import (
    CampaignFactory,
    HouseholdFactory,
    ReminderFactory,
    StoryNoteFactory,
    VisitFactory,
)

RATINGS = ["rating_before", "rating_after", "self_rating"]


@pytest.mark.django_db
def test_second_visit_with_same_client_id_is_refused(campaign):
    first = VisitFactory(campaign=campaign)
    duplicate = VisitFactory.build(campaign=campaign, household=first.household)
    duplicate.client_id = first.client_id
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Visit.objects.filter(client_id=first.client_id).count() == 1


@pytest.mark.django_db
def test_bulk_insert_of_a_repeated_client_id_is_refused(campaign):
    client_id = uuid.uuid4()
    household = HouseholdFactory(campaign=campaign)
    rows = [
        VisitFactory.build(campaign=campaign, household=household, client_id=client_id)
        for _ in range(2)
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.bulk_create(rows)
    assert not Visit.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", RATINGS)
@pytest.mark.parametrize("value", [11, -1])
def test_rating_outside_0_to_10_is_refused_on_insert(campaign, field, value):
    # -1 is caught by the >= 0 check PositiveSmallIntegerField adds, 11 by our own.
    note = StoryNoteFactory.build(visit=VisitFactory(campaign=campaign), **{field: value})
    with pytest.raises(IntegrityError), transaction.atomic():
        note.save()
    assert not StoryNote.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", RATINGS)
@pytest.mark.parametrize("value", [11, -1])
def test_rating_outside_0_to_10_is_refused_on_update(campaign, field, value):
    note = StoryNoteFactory(visit=VisitFactory(campaign=campaign))
    with pytest.raises(IntegrityError), transaction.atomic():
        StoryNote.objects.filter(pk=note.pk).update(**{field: value})
    assert getattr(StoryNote.objects.get(pk=note.pk), field) != value


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 10, None])
def test_ratings_at_the_ends_of_the_scale_and_blank_are_kept(campaign, value):
    note = StoryNoteFactory(
        visit=VisitFactory(campaign=campaign),
        rating_before=value,
        rating_after=value,
        self_rating=value,
    )
    stored = StoryNote.objects.values_list("rating_before", "rating_after", "self_rating").get(
        pk=note.pk
    )
    assert stored == (value, value, value)


@pytest.mark.django_db
def test_two_reminders_with_one_idempotency_key_are_refused(campaign):
    ReminderFactory(campaign=campaign, idempotency_key="commitment-7-day-before")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.bulk_create(
            [ReminderFactory.build(campaign=campaign, idempotency_key="commitment-7-day-before")]
        )
    assert Reminder.objects.filter(idempotency_key="commitment-7-day-before").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_visit_keep_exactly_one_row():
    """Five phones (or five retries) send the same visit at the same moment."""
    campaign = CampaignFactory()
    household = HouseholdFactory(campaign=campaign)
    client_id = uuid.uuid4()
    happened_at = timezone.now()
    writers = 5
    start = threading.Barrier(writers)
    outcomes = []

    def upload():
        try:
            start.wait(timeout=10)
            with transaction.atomic():
                Visit.objects.create(
                    client_id=client_id,
                    campaign=campaign,
                    household=household,
                    outcome=Visit.Outcome.CONVERSATION,
                    happened_at=happened_at,
                )
            outcomes.append("inserted")
        except IntegrityError:
            outcomes.append("duplicate")
        except Exception as exc:  # surfaced through the assertion below
            outcomes.append(repr(exc))
        finally:
            # Each thread has its own connection; leaving it open would block
            # dropping the test database.
            connections.close_all()

    threads = [threading.Thread(target=upload) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["duplicate"] * (writers - 1) + ["inserted"]
    assert Visit.objects.filter(client_id=client_id).count() == 1
