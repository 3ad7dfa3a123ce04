"""The batch of visits written together (visits_record): each visit still answered on its
own, idempotent on its client_id, in a number of queries that does not grow with the batch."""

import threading

import pytest
from django.db import connections
from django.test import Client

from conversations.models import Commitment, Reminder, StoryNote, Visit
from tests.conversations.door import conversation, doors, knock, results, sms_commitment
from tests.factories import CampaignFactory, HouseholdFactory, TurfFactory, VolunteerFactory
from turf.models import Person
from turf.services import assignment_create

pytestmark = pytest.mark.django_db


def _saturday(assignment, count):
    """`count` visits as a phone sends them after a morning: knocks, conversations with
    story notes, someone added at a door."""
    homes = doors(assignment)
    items = []
    for n in range(count):
        door = homes[n % len(homes)]
        if n % 4 == 1:
            items.append(conversation(door))
        elif n % 10 == 3:
            items.append(
                knock(door, new_person={"first_name": f"Dana {n}", "phone": "512-555-0199"})
            )
        else:
            items.append(knock(door, note=f"Knock {n}"))
    return items


def test_a_bad_visit_in_the_middle_of_a_batch_gets_its_own_refusal(phone, campaign, assignment):
    assignment, token = assignment
    first, second, third = doors(assignment)
    elsewhere = HouseholdFactory(campaign=campaign)  # in the campaign, not on this walk list
    not_on_list = knock(elsewhere)
    refused_commitment = conversation(
        third,
        commitments=[sms_commitment(), sms_commitment(phone="555", what="Support group")],
    )
    items = [
        knock(first),
        conversation(second),
        not_on_list,
        refused_commitment,
        knock(third, new_person={"first_name": "Dana", "phone": "512-555-0199"}),
        conversation(first, commitments=[sms_commitment()]),
        knock(second),
    ]

    answers = results(phone, token, *items)

    assert [a["status"] for a in answers] == [201, 201, 400, 400, 201, 201, 201]
    assert [a["client_id"] for a in answers] == [i["client_id"] for i in items]
    assert answers[2]["errors"] == {"household_id": "This door is not on your walk list."}
    assert answers[3]["errors"] == {
        "commitments": [
            {},
            {"phone": "“555” is not a valid phone number. Check the digits and the area code."},
        ]
    }
    stored = {str(v.client_id): v for v in Visit.objects.all()}
    assert set(stored) == {i["client_id"] for n, i in enumerate(items) if n not in (2, 3)}
    for answer in answers:
        if answer["status"] == 201:
            assert stored[answer["client_id"]].pk == answer["visit_id"]
    # Nothing of the refused visits: its good first commitment and reminders are gone too.
    assert StoryNote.objects.count() == 2
    assert Commitment.objects.get().visit == stored[items[5]["client_id"]]
    assert Reminder.objects.filter(commitment__visit__client_id=items[3]["client_id"]).count() == 0
    assert Person.objects.get(first_name="Dana").household == third
    assert stored[items[4]["client_id"]].person.first_name == "Dana"


def test_copies_in_one_batch_are_one_visit(phone, assignment):
    assignment, token = assignment
    first, second, _ = doors(assignment)
    visit = conversation(first)
    changed = {**visit, "note": "Another note under the same client_id"}
    refused = knock(first, outcome="moved", place="Library")  # a place is only for events
    fixed = {**refused, "place": ""}

    answers = results(phone, token, visit, knock(second), visit, visit, changed, refused, fixed)

    assert [a["status"] for a in answers] == [201, 201, 200, 200, 409, 400, 201]
    assert answers[2]["visit_id"] == answers[3]["visit_id"] == answers[0]["visit_id"]
    assert Visit.objects.filter(client_id=visit["client_id"]).count() == 1
    assert StoryNote.objects.count() == 1
    assert Visit.objects.get(client_id=fixed["client_id"]).place == ""
    assert Visit.objects.count() == 3

    # The whole batch again: every visit answered as already stored.
    again = results(phone, token, visit, fixed)
    assert [a["status"] for a in again] == [200, 200]


def test_a_batch_takes_the_same_queries_for_5_or_50_visits(
    phone, assignment, django_assert_max_num_queries
):
    """Reading the link and the volunteers, one read per kind of object the items name,
    what is already stored, the doors, then one INSERT per table in one transaction."""
    assignment, token = assignment
    five = _saturday(assignment, 5)
    with django_assert_max_num_queries(10):
        answers = results(phone, token, *five)
    assert {a["status"] for a in answers} == {201}
    fifty = _saturday(assignment, 50)
    with django_assert_max_num_queries(10):
        answers = results(phone, token, *fifty)
    assert {a["status"] for a in answers} == {201}
    assert Visit.objects.count() == 55
    assert StoryNote.objects.count() == 1 + 13
    with django_assert_max_num_queries(4):
        answers = results(phone, token, *fifty)
    assert {a["status"] for a in answers} == {200}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_from_two_requests_at_once_is_stored_once():
    """A phone that resent a 25-visit batch while the first request was still writing
    it: the second one's insert waits for the first, finds the copies and answers them."""
    campaign = CampaignFactory()
    volunteer = VolunteerFactory(campaign=campaign)
    assignment, token = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=5), volunteers=[volunteer]
    )
    items = _saturday(assignment, 25)
    copies = 3
    start = threading.Barrier(copies)
    answered = []

    def deliver():
        try:
            phone = Client()
            start.wait(timeout=10)
            answered.append(results(phone, token, *items))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answered) == copies
    for n, item in enumerate(items):
        statuses = sorted(answers[n]["status"] for answers in answered)
        assert statuses == [200] * (copies - 1) + [201], item
        assert len({answers[n]["visit_id"] for answers in answered}) == 1
    assert Visit.objects.count() == 25
    assert StoryNote.objects.count() == sum(i["outcome"] == "conversation" for i in items)
    assert Person.objects.filter(first_name__startswith="Dana").count() == 2
