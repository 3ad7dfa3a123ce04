"""POST /api/a/<token>/held: a visit the server would not take, handed to the organizers."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import HeldVisit, Visit
from tests.conversations.door import doors, knock, results, send
from tests.factories import AssignmentFactory
from turf.services import assignment_reissue, assignment_revoke

pytestmark = pytest.mark.django_db


def hold(phone, token, visit, **fields):
    body = {"client_id": visit["client_id"], "visit": visit, "problem": "invalid", **fields}
    return phone.post(
        reverse("sync_held", args=[token]), data=json.dumps(body), content_type="application/json"
    )


def test_a_held_visit_is_stored_once_as_it_is_and_applies_nothing(phone, door):
    visit = knock(door["households"][0], note="x" * 900)
    first = hold(phone, door["token"], visit, detail="Note: too long.")
    assert first.status_code == 201, first.content
    again = hold(phone, door["token"], visit)
    assert again.status_code == 200
    held = HeldVisit.objects.get()
    assert held.payload == visit and held.detail == "Note: too long."
    assert held.assignment == door["assignment"]
    assert Visit.objects.count() == door["before"]


def test_an_ended_link_may_still_hand_over_an_unknown_one_may_not(phone, door):
    assignment_revoke(assignment=door["assignment"])
    assert hold(phone, door["token"], knock(door["households"][0])).status_code == 201
    assert hold(phone, "no-such-link", knock(door["households"][0])).status_code == 404


def test_bad_held_visits_get_clear_errors_and_leave_nothing(phone, door):
    visit = knock(door["households"][0])
    wrong_id = hold(phone, door["token"], visit, client_id="00000000-0000-4000-8000-000000000000")
    assert "client_id" in wrong_id.json()
    nul = hold(phone, door["token"], {**visit, "note": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.json()["visit"]
    problem = hold(phone, door["token"], visit, problem="whatever")
    assert problem.status_code == 400 and "problem" in problem.json()
    assert not HeldVisit.objects.exists()


def test_a_client_id_held_for_another_campaign_is_refused(phone, door):
    elsewhere = AssignmentFactory()
    visit = knock(doors(elsewhere)[0])
    assert hold(phone, elsewhere.token, visit).status_code == 201
    answer = hold(phone, door["token"], visit)
    assert answer.status_code == 400 and "held elsewhere" in str(answer.json()["client_id"])
    assert HeldVisit.objects.get().campaign == elsewhere.turf.campaign


def test_a_replaced_link_takes_the_notes_made_before_it_was_replaced(phone, door):
    old = door["assignment"]
    made_before = knock(door["households"][0], happened_at=timezone.now().isoformat())
    assignment_reissue(assignment=old)
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    made_after = knock(door["households"][1], happened_at=later)
    answers = results(phone, door["token"], made_before, made_after)
    assert [a["status"] for a in answers] == [201, 400]
    assert "replaced" in answers[1]["errors"]["happened_at"]
    visit = Visit.objects.get(client_id=made_before["client_id"])
    assert (visit.assignment, visit.volunteer) == (old, old.volunteers.get())

    # Revoked for good (nothing replaced it): nothing gets in.
    other = AssignmentFactory(turf__campaign=old.turf.campaign)
    assignment_revoke(assignment=other)
    assert send(phone, other.token, knock(doors(other)[0])).status_code == 403
