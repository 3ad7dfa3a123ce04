"""Bad input to the sync API: every item gets its own clear answer, nothing is a 500,
nothing is half-written, and the limits the phone checks come from the server."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from conversations.api import VisitItemIn
from conversations.models import Commitment, HeldVisit, Reminder, Visit
from tests.conversations.door import (
    bundle,
    conversation,
    doors,
    knock,
    results,
    send,
    sms_commitment,
)
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone():
    """The phone, but a server error is an answer to look at, not an exception."""
    return Client(raise_request_exception=False)


def test_a_long_what_gets_its_reminders_whatever_the_subject_line_holds(
    phone, campaign, assignment, organizer
):
    """On PostgreSQL a 200-character "what" used to overflow the email subject built from
    it, and the whole batch answered 500."""
    assignment, token = assignment
    organizer.email = "olivia@example.org"
    organizer.save()
    door = doors(assignment)[0]
    rosa = PersonFactory(
        campaign=campaign, household=door, first_name="R" * 100, last_name="D" * 100
    )
    what = "Come to the tenants' meeting" + " and bring the lease" * 9
    assert 200 < len(what) <= 300
    item = conversation(
        door,
        person_id=rosa.pk,
        commitments=[
            sms_commitment(what=what, owner_id=organizer.pk, channel="email", email="r@example.org")
        ],
    )

    [result] = results(phone, token, item, knock(door))[:1]

    assert result["status"] == 201
    commitment = Commitment.objects.get()
    assert commitment.what == what
    reminders = Reminder.objects.filter(commitment=commitment)
    assert reminders.filter(recipient_kind=Reminder.Recipient.PERSON).exists()
    assert reminders.filter(recipient_kind=Reminder.Recipient.OWNER).exists()
    assert all(len(r.subject) <= 200 and len(r.recipient_name) <= 200 for r in reminders)
    assert any(r.subject.endswith("…") for r in reminders)
    assert Visit.objects.count() == 2


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("happened_at", "2024-02-30T10:00:00-05:00", "is not a real date and time"),
        ("happened_at", "2024-10-05T23:59:60-05:00", "is not a real date and time"),
        ("happened_at", "9999-12-31T23:59:59-12:00", "Give a date from 2000 to 2099."),
        ("happened_at", "0001-01-01T00:00:00+12:00", "Give a date from 2000 to 2099."),
        ("when", "2025-02-30T18:00:00-05:00", "is not a real date and time"),
        ("when", "9999-12-30T18:00:00-05:00", "Give a date from 2000 to 2099."),
    ],
)
def test_an_impossible_date_is_refused_for_its_item_alone(phone, assignment, where, value, message):
    assignment, token = assignment
    first, second, _ = doors(assignment)
    if where == "when":
        bad = conversation(first, commitments=[sms_commitment(when=value)])
    else:
        bad = knock(first, happened_at=value)

    answers = results(phone, token, knock(second), bad, knock(second))

    assert [a["status"] for a in answers] == [201, 400, 201]
    errors = answers[1]["errors"]
    text = errors["commitments"][0]["when"] if where == "when" else errors["happened_at"]
    assert message in text
    assert Visit.objects.count() == 2


def test_a_null_item_gets_its_own_answer_and_the_others_are_stored(phone, assignment):
    assignment, token = assignment
    door = doors(assignment)[0]

    answers = results(phone, token, knock(door), None, 7, knock(door))

    assert [a["status"] for a in answers] == [201, 400, 400, 201]
    assert answers[1]["errors"] == {"non_field_errors": "This field may not be null."}
    assert answers[1]["client_id"] is None
    assert "non_field_errors" in answers[2]["errors"]
    assert Visit.objects.count() == 2


def test_json_nested_too_deeply_is_a_clear_400(phone, assignment):
    _, token = assignment

    response = phone.post(
        reverse("sync_visits", args=[token]),
        data='{"visits": ' + "[" * 100_000 + "]" * 100_000 + "}",
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_request_over_the_size_limit_says_so(phone, assignment, settings):
    assignment, token = assignment
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    item = conversation(doors(assignment)[0])
    item["story_note"]["story"] = "é" * 40_000  # 80 KB once encoded

    response = send(phone, token, item)

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert "larger than 50,000 bytes" in body["detail"]
    assert not Visit.objects.exists()


def test_too_many_commitments_on_one_visit_are_refused(phone, assignment):
    assignment, token = assignment
    item = conversation(doors(assignment)[0], commitments=[sms_commitment()] * 6)

    [result] = results(phone, token, item)

    assert result["status"] == 400
    assert result["errors"]["commitments"].startswith("At most 5 commitments per visit")
    assert not Commitment.objects.exists() and not Reminder.objects.exists()


def test_the_walk_list_carries_the_limits_the_server_checks(phone, assignment, settings):
    _, token = assignment

    limits = bundle(phone, token).json()["limits"]

    item = VisitItemIn()
    assert limits["note"] == item.fields["note"].max_length == 500
    assert limits["place"] == 200
    assert limits["story_note"] == {
        "why": 2000,
        "story": 10000,
        "values_feelings": 2000,
        "themes": 50,
        "minutes": 240,
    }
    assert limits["new_person"] == {"first_name": 100, "last_name": 100, "phone": 40, "email": 254}
    assert limits["commitment"] == {"kind": 40, "what": 300, "phone": 40, "email": 254}
    assert limits["commitments_per_visit"] == 5
    assert limits["visits_per_batch"] == 200
    assert limits["request_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert (limits["earliest"], limits["latest"]) == (
        "2000-01-01T00:00:00+00:00",
        "2100-01-01T00:00:00+00:00",
    )


def test_text_over_a_limit_is_refused_for_its_item_with_the_limit_named(phone, assignment):
    assignment, token = assignment
    item = conversation(doors(assignment)[0])
    item["story_note"]["story"] = "x" * 10_001

    [result] = results(phone, token, item)

    assert result["errors"] == {
        "story_note": {"story": "Ensure this field has no more than 10000 characters."}
    }
    assert json.dumps(result)  # a plain answer, whatever was sent


@pytest.mark.parametrize("name", ["sync_visits", "sync_held"])
@pytest.mark.parametrize("depth", [100_000, 990, 600, 40])
def test_deeply_nested_json_to_each_json_endpoint_is_a_clear_400(phone, assignment, name, depth):
    """Nesting the parser refuses, and nesting it accepts but nothing after it could walk
    (validation, the JSON column), get the same answer and leave nothing."""
    assignment, token = assignment
    item = knock(doors(assignment)[0])
    nested = "[" * depth + "]" * depth
    item_text = json.dumps(item)[:-1] + ', "note": ' + nested + "}"
    if name == "sync_visits":
        body = '{"visits": [' + item_text + "]}"
    else:
        body = (
            '{"client_id": "'
            + item["client_id"]
            + '", "problem": "invalid", "visit": '
            + item_text
            + "}"
        )

    response = phone.post(reverse(name, args=[token]), data=body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert "nested too deeply" in response.json()["detail"]
    assert not Visit.objects.exists()
    assert not HeldVisit.objects.exists()
