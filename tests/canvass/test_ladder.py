"""The ladder: "volunteer a shift" at the door becomes a real signup, kept when they check
in, missed when they do not come, and counted in the follow-through numbers."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from canvass import services
from canvass.models import ShiftSignup, Volunteer
from conversations.models import Commitment, FollowUpEvent, Reminder, Step, Visit
from conversations.stats import campaign_followthrough
from tests.conversations.door import bundle, conversation, doors, results
from tests.factories import CampaignFactory, PersonFactory, ShiftFactory

pytestmark = pytest.mark.django_db
Status = ShiftSignup.Status


@pytest.fixture
def phone():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def door(assignment, campaign):
    assignment, token = assignment
    household = doors(assignment)[0]
    rosa = PersonFactory(
        campaign=campaign, household=household, first_name="Rosa", last_name="Diaz"
    )
    soon = timezone.now() + timedelta(days=3)
    shift = ShiftFactory(
        campaign=campaign,
        name="Saturday canvass",
        starts_at=soon,
        ends_at=soon + timedelta(hours=3),
        capacity=2,
    )
    return {
        "assignment": assignment,
        "token": token,
        "household": household,
        "rosa": rosa,
        "shift": shift,
    }


def volunteer_a_shift(door, **fields):
    return {
        "kind": "volunteer_shift",
        "what": "",
        "when": None,
        "owner_id": None,
        "channel": "sms",
        "phone": "512-555-0188",
        "email": "",
        "shift_id": door["shift"].pk,
        **fields,
    }


def said_yes(api, door, **fields):
    item = conversation(
        door["household"],
        person_id=door["rosa"].pk,
        commitments=[volunteer_a_shift(door, **fields)],
    )
    return item, results(api, door["token"], item)


def test_the_walk_list_offers_the_campaign_next_shifts(phone, door, campaign):
    later = ShiftFactory(campaign=campaign, starts_at=timezone.now() + timedelta(days=9))
    ShiftFactory(campaign=campaign, starts_at=timezone.now() + timedelta(days=2), public=False)
    ShiftFactory(campaign=CampaignFactory(), starts_at=timezone.now() + timedelta(days=2))
    shifts = bundle(phone, door["token"]).json()["shifts"]
    # The persona assignment's own shift (tomorrow) comes first; private and others' never.
    assert [s["id"] for s in shifts][1:] == [door["shift"].pk, later.pk]
    offered = shifts[1]
    assert offered["label"].startswith("Saturday canvass, ") and offered["free"] == 2
    assert offered["place"] == "Union hall"


def test_choosing_a_shift_at_the_door_makes_a_real_signup(phone, door, campaign):
    _item, [result] = said_yes(phone, door)
    assert result["status"] == 201, result
    commitment = Commitment.objects.get()
    signup = commitment.shift_signup
    assert signup.shift == door["shift"] and signup.source == ShiftSignup.Source.DOOR
    assert signup.status == Status.SIGNED_UP
    volunteer = signup.volunteer
    assert (volunteer.first_name, volunteer.last_name, volunteer.phone) == (
        "Rosa",
        "Diaz",
        "+15125550188",
    )
    # The consent given at the door is the signup's: texts, not email.
    assert signup.remind_by_sms and not signup.remind_by_email
    assert commitment.what.startswith("Saturday canvass, ")
    assert commitment.when == door["shift"].starts_at
    # Their messages are the signup's: a confirmation with the personal link, not the
    # commitment's own plan as well.
    assert not commitment.reminders.filter(recipient_kind=Reminder.Recipient.PERSON).exists()
    confirm = Reminder.objects.get(signup=signup, step=Step.SHIFT_CONFIRM)
    assert "/s/" in confirm.body and confirm.to == "+15125550188"


def test_the_same_visit_sent_again_signs_up_once(phone, door):
    item, [first] = said_yes(phone, door)
    [again] = results(phone, door["token"], item)
    assert (first["status"], again["status"]) == (201, 200)
    assert ShiftSignup.objects.count() == 1 and Volunteer.objects.filter(phone="+15125550188")


def test_a_returning_volunteer_is_recognised_and_a_full_shift_waitlists(phone, door, campaign):
    shift = door["shift"]
    for n in range(2):
        services.signup_public(shift=shift, first_name=f"Early{n}", phone=f"512-555-01{n}0")
    Volunteer.objects.create(campaign=campaign, first_name="Rosa", phone="+15125550188")
    _item, [result] = said_yes(phone, door)
    assert result["status"] == 201
    signup = Commitment.objects.get().shift_signup
    assert signup.status == Status.WAITLISTED
    assert Volunteer.objects.filter(phone="+15125550188").count() == 1


@pytest.mark.parametrize(
    "fields, path, words",
    [
        ({"kind": "meeting"}, "shift_id", "volunteer a shift"),
        ({"phone": "", "channel": "none"}, "phone", "phone number or email"),
        ({"shift_id": 999999}, "shift_id", "not one of this campaign's"),
    ],
)
def test_a_shift_it_cannot_sign_up_for_is_refused_and_nothing_is_written(
    phone, door, fields, path, words
):
    _item, [result] = said_yes(phone, door, **fields)
    assert result["status"] == 400
    assert words in str(result["errors"]["commitments"][0][path])
    assert not Visit.objects.exists() and not Commitment.objects.exists()
    assert not ShiftSignup.objects.filter(source=ShiftSignup.Source.DOOR).exists()


def test_a_cancelled_shift_is_refused_with_its_reason(phone, door, organizer):
    services.shift_cancel(shift=door["shift"], cancelled_by=organizer)
    _item, [result] = said_yes(phone, door)
    assert result["status"] == 400
    assert "cancelled" in str(result["errors"]["commitments"][0]["shift_id"])
    assert not Commitment.objects.exists()


def test_kept_on_check_in_missed_on_a_no_show_and_counted(phone, door, campaign, organizer):
    said_yes(phone, door)
    commitment = Commitment.objects.get()
    signup = commitment.shift_signup
    services.signup_check_in(signup=signup, checked_in_by=organizer)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.KEPT
    event = FollowUpEvent.objects.get(commitment=commitment)
    assert (event.status_before, event.status_after, event.by) == ("open", "kept", organizer)
    services.signup_check_in_undo(signup=signup)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.OPEN

    shift = signup.shift
    end = shift.ends_at + services.NO_SHOW_AFTER + timedelta(minutes=1)
    assert services.signups_no_show_sweep(now=end) == 1
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.MISSED
    assert services.signups_no_show_sweep(now=end) == 0

    numbers = campaign_followthrough(campaign)
    assert (numbers.total.made, numbers.total.missed, numbers.total.to_shift) == (1, 1, 0 + 1)
    [turf] = numbers.by_turf
    assert (turf.to_shift, turf.showed_up) == (1, 0)
    # The organizer corrects it: they did come after all.
    services.signup_status_set(signup=signup, status=Status.ATTENDED, changed_by=organizer, now=end)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.KEPT
    numbers = campaign_followthrough(campaign)
    assert (numbers.by_turf[0].showed_up, numbers.by_volunteer[0].showed_up) == (1, 1)
    assert numbers.total.rate == 1


def test_a_no_reply_or_a_move_carries_the_commitment(phone, door, campaign):
    said_yes(phone, door)
    commitment = Commitment.objects.get()
    signup = commitment.shift_signup
    other = ShiftFactory(campaign=campaign, starts_at=timezone.now() + timedelta(days=5))
    moved, _token = services.signup_move(signup=signup, shift=other)
    commitment.refresh_from_db()
    assert commitment.shift_signup == moved and commitment.status == Commitment.Status.OPEN
    assert commitment.when == other.starts_at
    services.signup_cancel(signup=moved)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.CANCELLED
