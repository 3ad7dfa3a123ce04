"""The door screen's sync API: the walk-list bundle and the batch of visits (docs/sync-api.md)."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from canvass.models import Membership
from conversations import urls as conversation_urls
from conversations.models import Commitment, Reminder, StoryNote, Visit
from tests.conversations.door import (
    LINK_ENDED,
    MEETING,
    bundle,
    conversation,
    doors,
    knock,
    results,
    send,
    sms_commitment,
    walk_list,
)
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    HouseholdFactory,
    MembershipFactory,
    PersonFactory,
    ShiftFactory,
    StoryNoteFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
    VolunteerFactory,
)
from turf.models import Household, Person
from turf.services import assignment_create, assignment_revoke

pytestmark = pytest.mark.django_db

# --- The walk-list bundle -----------------------------------------------------


def test_bundle_is_the_walk_list_in_walking_order(
    phone, campaign, assignment, organizer, field_lead
):
    assignment, token = assignment
    first, second, third = doors(assignment)
    first.unit, first.lat, first.lng = "Apt 2", 30.25, -97.75
    first.save()
    rosa = PersonFactory(campaign=campaign, household=first, first_name="Rosa", last_name="Diaz")
    PersonFactory(campaign=campaign, household=third, first_name="Sam", last_name="Okafor")
    MembershipFactory(campaign=campaign, role=Membership.Role.VOLUNTEER)  # not an owner

    response = bundle(phone, token)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["assignment"]["id"] == assignment.pk
    assert body["assignment"]["turf"] == {"id": assignment.turf.pk, "name": "Maple blocks"}
    assert body["assignment"]["volunteers"] == [
        {"id": v.pk, "name": "Vera Lopez"} for v in assignment.volunteers.all()
    ]
    assert body["campaign"]["slug"] == "eastside-tenants"
    assert body["campaign"]["story_themes"] == campaign.story_themes
    assert body["campaign"]["commitment_kinds"] == campaign.commitment_kinds
    assert body["campaign"]["channels"] == ["sms", "email", "none"]
    assert [h["id"] for h in body["households"]] == [first.pk, second.pk, third.pk]
    assert [h["position"] for h in body["households"]] == [1, 2, 3]
    door = body["households"][0]
    assert door["address"] == f"{first.house_number} Elm Street"
    assert (door["unit"], door["lat"], door["lng"]) == ("Apt 2", 30.25, -97.75)
    assert door["people"] == [{"id": rosa.pk, "first_name": "Rosa", "last_name": "Diaz"}]
    assert body["households"][1]["people"] == []
    assert body["progress"] == {"knocked": 0, "total": 3, "conversations": 0}
    assert sorted(o["id"] for o in body["owners"]) == sorted([organizer.pk, field_lead.pk])


def test_bundle_shows_earlier_visits_without_any_story_text(phone, campaign, assignment):
    assignment, token = assignment
    door = doors(assignment)[0]
    earlier = StoryNoteFactory(
        visit=VisitFactory(
            campaign=campaign, household=door, happened_at=timezone.now() - timedelta(days=9)
        ),
        themes=["Housing"],
        why="WHY-TEXT landlord raised the rent",
        story="STORY-TEXT she sleeps in her car",
        values_feelings="VALUES-TEXT dignity",
    )
    StoryNoteFactory(
        visit=VisitFactory(
            campaign=campaign,
            household=door,
            happened_at=timezone.now() - timedelta(days=2),
            note="NOTE-TEXT dog in yard",
        ),
        themes=["A loved one affected"],
        story="SENSITIVE-TEXT her son's diagnosis",
        sensitive=True,
    )
    VisitFactory(
        campaign=campaign,
        household=door,
        outcome=Visit.Outcome.NOT_HOME,
        happened_at=timezone.now() - timedelta(days=20),
    )

    response = bundle(phone, token)

    visits = response.json()["households"][0]["visits"]
    assert [(v["outcome"], v["themes"]) for v in visits] == [
        ("conversation", []),  # sensitive: not even its themes
        ("conversation", ["Housing"]),
        ("not_home", []),
    ]
    assert set(visits[1]) == {"happened_at", "outcome", "themes"}
    assert visits[1]["happened_at"].startswith(f"{earlier.visit.happened_at:%Y-%m-%d}")
    text = response.content.decode()
    for secret in ("WHY-TEXT", "STORY-TEXT", "VALUES-TEXT", "SENSITIVE-TEXT", "NOTE-TEXT"):
        assert secret not in text
    assert "A loved one affected" not in text.split('"households"')[1]


@pytest.mark.parametrize("size", [5, 500])
def test_bundle_takes_the_same_queries_for_any_turf_size(
    phone, campaign, organizer, volunteer, size, django_assert_num_queries
):
    turf = walk_list(campaign, doors=size, name=f"Size {size}")
    _, token = assignment_create(turf=turf, volunteers=[volunteer])
    for _n in range(3):  # the next shifts a "volunteer a shift" can pick: one query
        ShiftFactory(campaign=campaign)

    with django_assert_num_queries(8):
        response = bundle(phone, token)

    body = response.json()
    assert len(body["households"]) == size
    assert sum(len(h["people"]) for h in body["households"]) == 2 * size
    assert all(h["visits"][0]["themes"] == ["Housing"] for h in body["households"])


def test_bundle_progress_counts_what_this_assignment_recorded(phone, campaign, assignment):
    assignment, token = assignment
    first, second, _ = doors(assignment)
    VisitFactory(campaign=campaign, household=second)  # another shift's visit: not counted
    results(
        phone,
        token,
        knock(first),
        knock(first, outcome="come_back"),
        conversation(second),
        conversation(None, place="Flea market"),
    )

    assert bundle(phone, token).json()["progress"] == {
        "knocked": 2,
        "total": 3,
        "conversations": 2,
    }


def test_bundle_of_another_campaigns_link_holds_only_its_own_doors(phone, campaign, assignment):
    ours, _ = assignment
    theirs = AssignmentFactory(turf=TurfFactory(campaign=CampaignFactory(), doors=2))

    body = bundle(phone, theirs.token).json()

    assert {h["id"] for h in body["households"]} == {h.pk for h in doors(theirs)}
    assert not {h["id"] for h in body["households"]} & {h.pk for h in doors(ours)}
    assert body["campaign"]["slug"] != campaign.slug
    # Nor can it write to our doors.
    [result] = results(phone, theirs.token, knock(doors(ours)[0]))
    assert result["errors"] == {"household_id": "This door is not on your walk list."}
    assert not Visit.objects.exists()


# --- Links ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["bundle", "visits"])
def test_unknown_link_is_not_found(phone, assignment, endpoint):
    response = (
        bundle(phone, "not-a-token") if endpoint == "bundle" else send(phone, "not-a-token", {})
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_link"


@pytest.mark.parametrize("ending", ["expired", "revoked"])
@pytest.mark.parametrize("endpoint", ["bundle", "visits"])
def test_ended_link_is_refused_with_a_message_for_the_volunteer(
    phone, assignment, ending, endpoint
):
    assignment, token = assignment
    if ending == "revoked":
        assignment_revoke(assignment=assignment)
    else:
        type(assignment).objects.filter(pk=assignment.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

    if endpoint == "bundle":
        response = bundle(phone, token)
    else:
        response = send(phone, token, knock(doors(assignment)[0]))

    assert response.status_code == 403
    assert response.json() == {"detail": LINK_ENDED, "code": "link_ended"}
    assert not Visit.objects.exists()


# --- Recording visits ---------------------------------------------------------


def test_a_knock_is_stored_with_the_device_time_and_the_volunteer(
    phone, campaign, assignment, volunteer
):
    assignment, token = assignment
    door = doors(assignment)[0]
    item = knock(door, outcome="come_back", note="Back after 6")

    [result] = results(phone, token, item)

    assert result["status"] == 201
    visit = Visit.objects.get(pk=result["visit_id"])
    assert result["client_id"] == item["client_id"] == str(visit.client_id)
    assert (visit.campaign, visit.assignment, visit.household) == (campaign, assignment, door)
    assert (visit.outcome, visit.note, visit.volunteer) == ("come_back", "Back after 6", volunteer)
    assert visit.happened_at.isoformat() == "2024-10-05T19:03:00+00:00"
    assert timezone.now() - visit.received_at < timedelta(minutes=1)


def test_visit_is_stamped_with_the_volunteer_it_names(phone, campaign, volunteer):
    partner = VolunteerFactory(campaign=campaign, first_name="Zoe")  # Vera comes first
    assignment, token = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=1), volunteers=[volunteer, partner]
    )
    door = doors(assignment)[0]

    mine, theirs = results(phone, token, knock(door), knock(door, volunteer_id=partner.pk))

    assert Visit.objects.get(pk=mine["visit_id"]).volunteer == volunteer
    assert Visit.objects.get(pk=theirs["visit_id"]).volunteer == partner


def test_volunteer_not_on_the_assignment_is_refused(phone, campaign, assignment):
    assignment, token = assignment
    stranger = VolunteerFactory(campaign=campaign)

    [result] = results(phone, token, knock(doors(assignment)[0], volunteer_id=stranger.pk))

    assert result["status"] == 400
    assert result["errors"] == {"volunteer_id": "This volunteer is not on this assignment."}


def test_the_same_visit_twice_is_stored_once(phone, assignment):
    assignment, token = assignment
    item = conversation(doors(assignment)[0], commitments=[sms_commitment()])

    [first] = results(phone, token, item)
    reminders = Reminder.objects.count()
    # Resent with its keys in another order and its time written in UTC: the same visit.
    resent = dict(reversed(list(item.items())), happened_at="2024-10-05T19:03:00Z")
    [second] = results(phone, token, resent)

    assert (first["status"], second["status"]) == (201, 200)
    assert second["visit_id"] == first["visit_id"]
    assert Visit.objects.filter(client_id=item["client_id"]).count() == 1
    assert StoryNote.objects.count() == 1
    assert Commitment.objects.count() == 1
    assert Reminder.objects.count() == reminders > 0


def test_omitted_and_empty_fields_are_the_same_content(phone, assignment):
    assignment, token = assignment
    item = knock(doors(assignment)[0])
    full = {**item, "person_id": None, "note": "", "place": "", "story_note": None}

    statuses = [r["status"] for r in results(phone, token, item, full)]

    assert statuses == [201, 200]


def test_same_client_id_with_different_content_is_a_conflict(phone, assignment):
    assignment, token = assignment
    item = knock(doors(assignment)[0])
    [first] = results(phone, token, item)

    [second] = results(phone, token, {**item, "outcome": "refused"})

    assert second["status"] == 409
    assert "already saved with this client_id" in second["detail"]
    assert "visit_id" not in second
    assert Visit.objects.get(client_id=item["client_id"]).outcome == "not_home"


def test_client_id_of_another_campaigns_visit_is_a_conflict(phone, assignment):
    assignment, token = assignment
    elsewhere = VisitFactory()
    item = knock(doors(assignment)[0], client_id=str(elsewhere.client_id))

    [result] = results(phone, token, item)

    assert result["status"] == 409
    assert Visit.objects.filter(client_id=elsewhere.client_id).get().pk == elsewhere.pk


def test_one_bad_item_does_not_block_the_others(phone, campaign, assignment):
    assignment, token = assignment
    first, second, third = doors(assignment)
    bad = conversation(
        second,
        new_person={"first_name": "Dana", "last_name": "Reyes", "phone": "", "email": ""},
        commitments=[sms_commitment(), sms_commitment(phone="555", what="Support group")],
    )

    answers = results(phone, token, knock(first), bad, conversation(third))

    assert [a["status"] for a in answers] == [201, 400, 201]
    assert answers[1]["client_id"] == bad["client_id"]
    assert answers[1]["detail"] == "This visit was not saved: fix the marked fields."
    assert answers[1]["errors"] == {
        "commitments": [
            {},
            {"phone": "“555” is not a valid phone number. Check the digits and the area code."},
        ]
    }
    # Nothing of the bad visit is left: not the visit, the person, the note,
    # the good first commitment nor its reminder.
    assert not Visit.objects.filter(client_id=bad["client_id"]).exists()
    assert not Person.objects.filter(first_name="Dana").exists()
    assert StoryNote.objects.count() == 1
    assert not Commitment.objects.exists()
    assert not Reminder.objects.exists()

    # Fixed, it goes through.
    bad["commitments"][1]["phone"] = "512-555-0188"
    [fixed] = results(phone, token, bad)
    assert fixed["status"] == 201
    assert Commitment.objects.filter(visit_id=fixed["visit_id"]).count() == 2


def test_commitments_are_recorded_with_their_reminders(phone, campaign, assignment, field_lead):
    assignment, token = assignment
    door = doors(assignment)[0]
    rosa = PersonFactory(campaign=campaign, household=door, first_name="Rosa")
    item = conversation(
        door,
        person_id=rosa.pk,
        commitments=[
            sms_commitment(owner_id=field_lead.pk),
            {"kind": "follow_up", "what": "Talk again about the lease", "channel": "none"},
        ],
    )

    [result] = results(phone, token, item)

    assert result["status"] == 201
    visit = Visit.objects.get(pk=result["visit_id"])
    assert visit.person == rosa
    meeting, talk = visit.commitments.order_by("pk")
    assert (meeting.person, meeting.owner, meeting.phone) == (rosa, field_lead, "+15125550123")
    assert meeting.when == MEETING
    to_rosa = meeting.reminders.filter(recipient_kind=Reminder.Recipient.PERSON)
    assert to_rosa.exists()
    assert {(r.channel, r.to) for r in to_rosa} == {("sms", "+15125550123")}
    assert (talk.kind, talk.channel, talk.owner) == ("follow_up", "none", None)
    assert not talk.reminders.filter(recipient_kind=Reminder.Recipient.PERSON).exists()
    note = visit.story_note
    assert (note.rating_before, note.rating_after, note.self_rating) == (4, 6, 7)
    assert note.themes == ["Housing", "Family"]
    assert note.canvasser_shared_story is True


def test_owner_must_be_an_organizer_or_field_lead(phone, campaign, assignment):
    assignment, token = assignment
    helper = UserFactory()
    MembershipFactory(user=helper, campaign=campaign, role=Membership.Role.VOLUNTEER)
    outsider = UserFactory()

    [helper_owner, outsider_owner] = results(
        phone,
        token,
        conversation(doors(assignment)[0], commitments=[sms_commitment(owner_id=helper.pk)]),
        conversation(doors(assignment)[0], commitments=[sms_commitment(owner_id=outsider.pk)]),
    )

    message = "Choose one of this campaign's organizers or field leads."
    assert helper_owner["errors"] == {"commitments": [{"owner_id": message}]}
    assert outsider_owner["errors"] == {"commitments": [{"owner_id": message}]}
    assert not Visit.objects.exists()


def test_a_person_added_at_the_door_joins_the_household(phone, campaign, assignment):
    assignment, token = assignment
    door = doors(assignment)[1]
    item = conversation(
        door,
        new_person={
            "first_name": "Dana",
            "last_name": "Reyes",
            "phone": "(512) 555-0142",
            "email": "dana@example.org",
        },
        commitments=[sms_commitment(phone="(512) 555-0142")],
    )

    [result] = results(phone, token, item)

    assert result["status"] == 201
    dana = Person.objects.get(first_name="Dana")
    assert (dana.campaign, dana.household) == (campaign, door)
    assert (dana.phone, dana.email) == ("+15125550142", "dana@example.org")
    assert Visit.objects.get(pk=result["visit_id"]).person == dana
    assert Commitment.objects.get().person == dana
    assert bundle(phone, token).json()["households"][1]["people"][0]["first_name"] == "Dana"


def test_a_conversation_at_an_event_needs_no_household(phone, campaign, assignment):
    assignment, token = assignment
    item = conversation(
        None,
        place="Saturday flea market",
        new_person={"first_name": "Lee", "phone": "", "email": ""},
        commitments=[
            sms_commitment(channel="email", phone="", email="lee@example.org"),
        ],
    )

    [result] = results(phone, token, item)

    assert result["status"] == 201
    visit = Visit.objects.get(pk=result["visit_id"])
    assert (visit.household, visit.place) == (None, "Saturday flea market")
    assert (visit.person.first_name, visit.person.household) == ("Lee", None)
    assert visit.person.campaign == campaign
    to_lee = Reminder.objects.filter(recipient_kind=Reminder.Recipient.PERSON)
    assert {r.to for r in to_lee} == {"lee@example.org"}


def test_event_conversation_with_someone_already_on_the_list(phone, campaign, assignment):
    assignment, token = assignment
    known = PersonFactory(campaign=campaign)  # lives on no door of this turf

    [result] = results(phone, token, conversation(None, person_id=known.pk))

    assert result["status"] == 201
    assert Visit.objects.get(pk=result["visit_id"]).person == known


# --- Per-item validation ------------------------------------------------------


def test_a_door_on_another_turf_is_refused_like_a_door_that_does_not_exist(
    phone, campaign, assignment
):
    assignment, token = assignment
    other_turf_door = TurfFactory(campaign=campaign, doors=1).stops.get().household
    other_campaign_door = HouseholdFactory()
    missing = Household.objects.order_by("-pk").first().pk + 1000

    answers = results(
        phone,
        token,
        knock(other_turf_door),
        knock(other_campaign_door),
        {**knock(None), "household_id": missing},
    )

    assert [a["status"] for a in answers] == [400, 400, 400]
    assert {a["errors"]["household_id"] for a in answers} == {"This door is not on your walk list."}
    assert not Visit.objects.exists()


def test_a_person_from_another_campaign_is_refused(phone, assignment):
    assignment, token = assignment
    stranger = PersonFactory()

    [at_door, at_event] = results(
        phone,
        token,
        conversation(doors(assignment)[0], person_id=stranger.pk),
        conversation(None, person_id=stranger.pk),
    )

    for answer in (at_door, at_event):
        assert answer["errors"] == {"person_id": "This person is not on your campaign's list."}
    assert not Visit.objects.exists()


def test_a_person_from_another_door_is_refused(phone, campaign, assignment):
    assignment, token = assignment
    first, second, _ = doors(assignment)
    neighbour = PersonFactory(campaign=campaign, household=second)

    [result] = results(phone, token, conversation(first, person_id=neighbour.pk))

    assert result["status"] == 400
    assert "not listed at this door" in result["errors"]["person_id"]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"household_id": None},
            {
                "household_id": "Choose the door: only a conversation can be recorded "
                "away from the walk list."
            },
        ),
        (
            {"outcome": "gone_fishing"},
            {
                "outcome": "“gone_fishing” is not an outcome: use not_home, refused, moved, "
                "inaccessible, come_back, conversation."
            },
        ),
        (
            {"happened_at": "2024-10-05T14:03:00"},
            {"happened_at": "Give the time with its offset, e.g. 2024-10-05T14:03:00-05:00."},
        ),
        ({"client_id": "not-a-uuid"}, {"client_id": "Must be a valid UUID."}),
        (
            {"story_note": {"rating_before": 3}},
            {"story_note": "Only a conversation has a story note."},
        ),
        (
            {"commitments": [sms_commitment()]},
            {"commitments": "Only a conversation has commitments."},
        ),
        (
            {"place": "The fair"},
            {
                "place": "A place is only for a conversation away from the walk list; "
                "leave it empty for a door."
            },
        ),
    ],
)
def test_invalid_knock_says_what_was_wrong(phone, assignment, change, errors):
    assignment, token = assignment

    [result] = results(phone, token, {**knock(doors(assignment)[0]), **change})

    assert result["status"] == 400
    assert result["errors"] == errors
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("story_note", "errors"),
    [
        (
            {"rating_before": 11},
            {"rating_before": "Ensure this value is less than or equal to 10."},
        ),
        (
            {"themes": ["Housing", "Astrology"]},
            {"themes": "“Astrology” is not one of this campaign's story themes."},
        ),
    ],
)
def test_invalid_story_note_says_what_was_wrong(phone, assignment, story_note, errors):
    assignment, token = assignment
    item = conversation(doors(assignment)[0])
    item["story_note"].update(story_note)

    [result] = results(phone, token, item)

    assert result["errors"] == {"story_note": errors}
    assert not StoryNote.objects.exists()


def test_new_person_with_a_bad_phone_or_alongside_a_listed_person(phone, campaign, assignment):
    assignment, token = assignment
    door = doors(assignment)[0]
    listed = PersonFactory(campaign=campaign, household=door)
    newcomer = {"first_name": "", "phone": "12", "email": "nope"}

    [bad, both] = results(
        phone,
        token,
        conversation(door, new_person=newcomer),
        conversation(door, person_id=listed.pk, new_person={"first_name": "Al"}),
    )

    assert bad["errors"] == {
        "new_person": {
            "first_name": "Give at least a first name.",
            "phone": "“12” is not a valid phone number. Check the digits and the area code.",
            "email": "“nope” is not an email address.",
        }
    }
    assert both["errors"] == {
        "new_person": "Pick someone on the list or add a new person, not both."
    }
    assert Person.objects.count() == 1


def test_an_item_that_is_not_an_object_gets_its_own_result(phone, assignment):
    assignment, token = assignment

    answers = results(phone, token, "hello", knock(doors(assignment)[0]))

    assert answers[0]["client_id"] is None
    assert answers[0]["status"] == 400
    assert "non_field_errors" in answers[0]["errors"]
    assert answers[1]["status"] == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"visits": []}, "Send at least one visit."),
        ({"visits": [{}] * 201}, "Send at most 200 visits at once."),
        ({"visits": "all of them"}, 'Expected a list of items but got type "str".'),
        ({}, "This field is required."),
    ],
)
def test_a_batch_that_is_not_a_list_of_visits_is_refused(phone, assignment, body, message):
    _, token = assignment

    response = phone.post(
        reverse("sync_visits", args=[token]), data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"visits": [message]}


def test_two_hundred_visits_in_one_batch(phone, assignment):
    assignment, token = assignment
    items = [knock(doors(assignment)[n % 3]) for n in range(200)]

    answers = results(phone, token, *items)

    assert [a["client_id"] for a in answers] == [i["client_id"] for i in items]
    assert {a["status"] for a in answers} == {201}
    assert Visit.objects.count() == 200


# --- Concurrency ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_copies_at_the_same_moment_make_one_visit():
    """A phone that retried four times while the first request was still running."""
    campaign = CampaignFactory()
    volunteer = VolunteerFactory(campaign=campaign)
    assignment, token = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=1), volunteers=[volunteer]
    )
    item = conversation(doors(assignment)[0])
    copies = 5
    start = threading.Barrier(copies)
    statuses = []

    def deliver():
        try:
            phone = Client()
            start.wait(timeout=10)
            [result] = results(phone, token, item)
            statuses.append(result["status"])
        finally:
            # Each thread has its own connection; leaving it open would block
            # dropping the test database.
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200] * (copies - 1) + [201]
    assert Visit.objects.filter(client_id=item["client_id"]).count() == 1
    assert StoryNote.objects.count() == 1


# --- The schema -------------------------------------------------------------------


def test_schema_describes_the_sync_api_without_warnings(client):
    ours = [p for p in conversation_urls.urlpatterns if p.name in ("sync_bundle", "sync_visits")]
    GENERATOR_STATS.reset()

    schema = SchemaGenerator(patterns=ours).get_schema(request=None, public=True)

    assert not GENERATOR_STATS, [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    validate_schema(schema)
    assert set(schema["paths"]) == {"/api/a/{token}/bundle", "/api/a/{token}/visits"}
    assert schema["paths"]["/api/a/{token}/bundle"]["get"]["security"] == [{}]  # no login

    # And the whole site's schema and its docs page still render with them in.
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/a/{token}/visits" in json.loads(response.content)["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The docs page's script comes from the app's own static files, not a CDN.
    assert b"/static/drf_spectacular_sidecar/redoc/" in docs.content
    assert b"cdn." not in docs.content
