"""A link touches only its own walk list: the people at its doors and those it added; it is
held to a number of requests a minute; its walk list is small on the wire."""

import gzip
import json

import pytest
from django.urls import reverse

from conversations.models import Visit
from tests.conversations.door import (
    bundle,
    conversation,
    doors,
    knock,
    results,
    send,
    walk_list,
)
from tests.factories import AssignmentFactory, PersonFactory, TurfFactory
from turf.services import assignment_create

pytestmark = pytest.mark.django_db


def test_people_elsewhere_in_the_campaign_look_like_ids_that_do_not_exist(
    phone, campaign, assignment
):
    assignment, token = assignment
    other_turf = TurfFactory(campaign=campaign, doors=1)
    elsewhere = PersonFactory(campaign=campaign, household=other_turf.stops.get().household)
    nobody = 10**9  # an id no one has

    answers = results(
        phone,
        token,
        conversation(None, person_id=elsewhere.pk),
        conversation(None, person_id=nobody),
        conversation(doors(assignment)[0], person_id=elsewhere.pk),
    )
    assert [a["errors"] for a in answers] == [
        {"person_id": "This person is not on your walk list."}
    ] * 3
    assert not Visit.objects.exists()


def test_someone_the_link_added_can_be_named_again(phone, assignment):
    assignment, token = assignment
    [first] = results(
        phone, token, conversation(None, place="Fair", new_person={"first_name": "Dee"})
    )
    assert first["status"] == 201
    dee = Visit.objects.get().person
    [again] = results(phone, token, conversation(None, place="Fair", person_id=dee.pk))
    assert again["status"] == 201


def test_do_not_contact_is_flagged_and_no_conversation_is_recorded(phone, campaign, assignment):
    assignment, token = assignment
    door = doors(assignment)[0]
    quiet = PersonFactory(campaign=campaign, household=door, do_not_contact=True)
    listed = PersonFactory(campaign=campaign, household=door)

    people = {p["id"]: p for hh in bundle(phone, token).json()["households"] for p in hh["people"]}
    assert people[quiet.pk]["do_not_contact"] is True
    assert "do_not_contact" not in people[listed.pk]

    [talk, knocked] = results(
        phone, token, conversation(door, person_id=quiet.pk), knock(door, outcome="refused")
    )
    assert "asked not to be contacted" in talk["errors"]["person_id"]
    assert knocked["status"] == 201
    assert list(Visit.objects.values_list("outcome", flat=True)) == ["refused"]


def test_a_link_is_held_to_its_requests_a_minute_with_a_clear_answer(
    phone, campaign, assignment, settings
):
    settings.SYNC_REQUESTS_PER_MINUTE = 3
    assignment, token = assignment
    assert bundle(phone, token).json()["limits"]["requests_per_minute"] == 3
    door = doors(assignment)[0]
    answers = [send(phone, token, knock(door)) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]  # the bundle was the first
    over = send(phone, token, knock(door))
    assert over.status_code == 429
    assert "at most 3 a minute" in over.json()["detail"]
    assert 1 <= int(over["Retry-After"]) <= 60
    assert Visit.objects.count() == 2
    # Another link has its own count.
    other = AssignmentFactory(turf__campaign=campaign)
    assert send(phone, other.token, knock(doors(other)[0])).status_code == 200


def test_the_walk_list_is_gzipped_and_carries_only_what_the_door_needs(phone, campaign, assignment):
    turf = walk_list(campaign, doors=231, name="Long", visits_per_door=3)
    _, token = assignment_create(turf=turf, volunteers=list(assignment[0].volunteers.all()))
    response = phone.get(reverse("sync_bundle", args=[token]), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert len(body["households"]) == 231
    assert set(body["households"][0]) == {"id", "address", "unit", "people", "visits"}
    # 231 doors with 3 earlier visits each: a few KB on the wire.
    assert len(response.content) < 20_000
