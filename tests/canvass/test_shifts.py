"""Shift and signup services: the rules every path goes through."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from canvass import services
from canvass.models import Shift, ShiftSignup, Volunteer, hash_link_token
from canvass.services import notify
from tests.factories import (
    CampaignFactory,
    ShiftFactory,
    ShiftSignupFactory,
    TurfFactory,
    UserFactory,
    VolunteerFactory,
)
from turf.models import Assignment

pytestmark = pytest.mark.django_db
Status = ShiftSignup.Status


@pytest.fixture
def told(monkeypatch):
    """What signup_notify was asked to tell, as (volunteer first name, event) pairs."""
    events = []
    monkeypatch.setattr(
        notify,
        "signup_notify",
        lambda *, signup, event, now=None: events.append((signup.volunteer.first_name, event)),
    )
    return events


def local(campaign, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=campaign.tz)


def next_weekday(weekday, weeks=1):
    today = timezone.localdate()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


# --- Planning shifts --------------------------------------------------------


def test_a_shift_is_planned_with_its_pool_contact_and_pin(campaign, organizer):
    turfs = [TurfFactory(campaign=campaign, doors=2) for _ in range(2)]
    day = next_weekday(5)
    shift = services.shift_create(
        campaign=campaign,
        name="Saturday canvass",
        starts_at=local(campaign, day, 10),
        ends_at=local(campaign, day, 13),
        place="Union hall, 12 Elm St",
        place_lat=30.26,
        place_lng=-97.74,
        capacity=8,
        notes="Bring water.",
        contact=organizer,
        turfs=turfs,
        created_by=organizer,
    )
    shift.refresh_from_db()
    assert shift.local_start().time() == time(10) and shift.local_end().time() == time(13)
    assert set(shift.turfs.all()) == set(turfs)
    assert shift.contact == organizer and shift.capacity == 8


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"ends_at": -1}, "ends_at", "ends before it starts"),
        ({"days": -10}, "starts_at", "in the past"),
        ({"capacity": 0}, "capacity", "at least one"),
        ({"place_lat": 30.2}, "place_lat", "both the latitude and the longitude"),
        ({"place_lat": 95.0, "place_lng": 10.0}, "place_lat", "off the map"),
    ],
    ids=["end-before-start", "past", "no-room", "half-a-pin", "pin-off-map"],
)
def test_a_bad_shift_is_refused_with_a_message_and_nothing_written(campaign, change, field, words):
    day = timezone.localdate() + timedelta(days=change.pop("days", 3))
    fields = {
        "starts_at": local(campaign, day, 10),
        "ends_at": local(campaign, day, 13),
        "capacity": 5,
    }
    if "ends_at" in change:
        fields["ends_at"] = local(campaign, day, 9)
        change.pop("ends_at")
    fields.update(change)
    with pytest.raises(ValidationError) as caught:
        services.shift_create(campaign=campaign, **fields)
    assert words in " ".join(caught.value.message_dict[field])
    assert not Shift.objects.exists()


def test_the_contact_must_lead_in_the_campaign_and_turfs_be_its_own(campaign, outsider):
    day = next_weekday(2)
    fields = {"starts_at": local(campaign, day, 17), "ends_at": local(campaign, day, 19)}
    with pytest.raises(ValidationError) as caught:
        services.shift_create(campaign=campaign, contact=outsider, **fields)
    assert "contact" in caught.value.message_dict
    elsewhere = TurfFactory(campaign=CampaignFactory())
    with pytest.raises(ValidationError) as caught:
        services.shift_create(campaign=campaign, turfs=[elsewhere], **fields)
    assert "turfs" in caught.value.message_dict
    assert not Shift.objects.exists()


def test_every_saturday_until_a_date_makes_one_shift_per_date_at_the_same_local_time(campaign):
    # Four Saturdays across the end of daylight saving time (first Sunday of November).
    first = date(timezone.localdate().year + 1, 10, 20)
    first += timedelta(days=(5 - first.weekday()) % 7)
    shifts = services.shift_series_create(
        campaign=campaign,
        name="Saturday canvass",
        starts_at=local(campaign, first, 10),
        ends_at=local(campaign, first, 13),
        weekdays=[5],
        until=first + timedelta(days=21),
    )
    assert [s.local_start().date() for s in shifts] == [
        first + timedelta(days=7 * n) for n in range(4)
    ]
    assert {(s.local_start().time(), s.local_end().time()) for s in shifts} == {
        (time(10), time(13))
    }
    offsets = {s.local_start().utcoffset() for s in shifts}
    assert len(offsets) == 2  # the clock changed in between, the local time did not
    assert len({s.series for s in shifts}) == 1 and shifts[0].series is not None
    # Each is its own shift: editing one leaves the others.
    services.shift_update(shift=shifts[1], capacity=3)
    assert [Shift.objects.get(pk=s.pk).capacity for s in shifts] == [10, 3, 10, 10]


def test_a_repeat_too_long_or_ending_before_it_starts_is_refused(campaign):
    day = next_weekday(5)
    fields = {"starts_at": local(campaign, day, 10), "ends_at": local(campaign, day, 13)}
    with pytest.raises(ValidationError) as caught:
        services.shift_series_create(
            campaign=campaign,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            until=day + timedelta(days=200),
            **fields,
        )
    assert "at most 100" in caught.value.message_dict["repeat_until"][0]
    with pytest.raises(ValidationError) as caught:
        services.shift_series_create(
            campaign=campaign, weekdays=[5], until=day - timedelta(days=1), **fields
        )
    assert "on or after the first shift" in caught.value.message_dict["repeat_until"][0]
    assert not Shift.objects.exists()


# --- Capacity, the waitlist and promotion -------------------------------------


def test_a_full_shift_puts_the_next_people_on_the_waitlist(campaign, told):
    shift = ShiftFactory(campaign=campaign, capacity=2)
    signups = [ShiftSignupFactory(shift=shift) for _ in range(4)]
    assert [s.status for s in signups] == [Status.SIGNED_UP] * 2 + [Status.WAITLISTED] * 2
    assert [event for _, event in told] == ["signed_up"] * 2 + ["waitlisted"] * 2
    assert all(s.token for s in signups)


def test_a_cancellation_promotes_the_first_on_the_waitlist_and_tells_them(campaign, told):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    first = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Ana")
    )
    early = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Bo")
    )
    late = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Cy")
    )
    told.clear()

    assert services.signup_cancel(signup=first) is True

    early.refresh_from_db()
    late.refresh_from_db()
    assert early.status == Status.SIGNED_UP and early.promoted_at is not None
    assert late.status == Status.WAITLISTED
    assert told == [("Ana", "cancelled"), ("Bo", "promoted")]
    # Cancelling again changes nothing and tells no one.
    assert services.signup_cancel(signup=first) is False
    assert len(told) == 2


def test_a_cancelled_signup_that_comes_back_joins_the_end_of_the_line(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    held = ShiftSignupFactory(shift=shift)
    waiting = ShiftSignupFactory(shift=shift)
    services.signup_cancel(signup=waiting)
    back, token = services.signup_create(shift=shift, volunteer=waiting.volunteer)
    assert back.pk == waiting.pk and back.status == Status.WAITLISTED
    # A comeback through the public page gets a new link; the old one stops.
    assert token and token != waiting.token
    assert not ShiftSignup.objects.for_token(waiting.token).exists()
    services.signup_cancel(signup=held)
    back.refresh_from_db()
    assert back.status == Status.SIGNED_UP


def test_raising_the_capacity_promotes_at_once_and_lowering_it_below_the_signups_is_refused(
    campaign,
):
    shift = ShiftFactory(campaign=campaign, capacity=2)
    signups = [ShiftSignupFactory(shift=shift) for _ in range(4)]
    with pytest.raises(ValidationError) as caught:
        services.shift_update(shift=shift, capacity=1)
    assert "cannot go below 2" in caught.value.message_dict["capacity"][0]
    assert Shift.objects.get(pk=shift.pk).capacity == 2

    services.shift_update(shift=shift, capacity=3)
    statuses = [ShiftSignup.objects.get(pk=s.pk).status for s in signups]
    assert statuses == [Status.SIGNED_UP] * 3 + [Status.WAITLISTED]


def test_asking_for_a_spot_on_a_full_shift_is_refused(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    ShiftSignupFactory(shift=shift)
    volunteer = VolunteerFactory(campaign=campaign)
    with pytest.raises(ValidationError, match="This shift is full"):
        services.signup_create(shift=shift, volunteer=volunteer, status=Status.SIGNED_UP)
    assert not ShiftSignup.objects.filter(volunteer=volunteer).exists()


def test_someone_already_on_the_shift_gets_their_signup_back_and_no_new_link(campaign):
    shift = ShiftFactory(campaign=campaign)
    signup = ShiftSignupFactory(shift=shift)
    again, token = services.signup_create(shift=shift, volunteer=signup.volunteer)
    assert again.pk == signup.pk and token is None
    assert ShiftSignup.objects.for_token(signup.token).exists()


@pytest.mark.parametrize("when", ["cancelled", "over"])
def test_nobody_signs_up_for_a_cancelled_or_finished_shift(campaign, when):
    shift = ShiftFactory(campaign=campaign)
    now = None
    if when == "cancelled":
        services.shift_cancel(shift=shift)
        words = "cancelled"
    else:
        now = shift.ends_at + timedelta(minutes=1)
        words = "over"
    with pytest.raises(ValidationError, match=words):
        services.signup_create(shift=shift, volunteer=VolunteerFactory(campaign=campaign), now=now)
    assert not ShiftSignup.objects.exists()


# --- The public path: recognising people --------------------------------------


def test_a_public_signup_makes_a_volunteer_once_and_recognises_them_by_phone_or_email(campaign):
    first_shift, second_shift, third_shift = (ShiftFactory(campaign=campaign) for _ in range(3))
    signup, token, returning = services.signup_public(
        shift=first_shift,
        first_name="Dana",
        last_name="Whitfield",
        phone="(512) 555-0142",
        email="",
        language="es",
        remind_by_sms=True,
    )
    assert returning is False and token
    volunteer = signup.volunteer
    assert volunteer.phone == "+15125550142" and volunteer.language == "es"
    assert signup.remind_by_sms and signup.source == ShiftSignup.Source.PUBLIC

    again, _, returning = services.signup_public(
        shift=second_shift, first_name="D.", phone="512.555.0142", email="Dana@Example.org"
    )
    assert returning is True and again.volunteer_id == volunteer.pk
    volunteer.refresh_from_db()
    # What the row lacked is filled in; the name on file is not overwritten.
    assert volunteer.first_name == "Dana" and volunteer.email == "Dana@Example.org"

    third, _, returning = services.signup_public(
        shift=third_shift, first_name="Dana", email="dana@example.ORG"
    )
    assert returning is True and third.volunteer_id == volunteer.pk
    assert Volunteer.objects.count() == 1


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"phone": "555"}, "phone", "not a valid phone number"),
        ({"phone": "call me"}, "phone", "not a phone number"),
        ({"phone": "", "email": ""}, "phone", "phone number or an email"),
        ({"email": "dana@"}, "email", "not an email address"),
        ({"phone": "", "email": "d@example.org", "remind_by_sms": True}, "remind_by_sms", "phone"),
        ({"first_name": " "}, "first_name", "first name"),
    ],
    ids=["short-phone", "words", "no-contact", "bad-email", "texts-no-phone", "no-name"],
)
def test_bad_details_are_refused_with_a_message_and_nothing_written(campaign, fields, field, words):
    shift = ShiftFactory(campaign=campaign)
    data = {"first_name": "Dana", "phone": "512-555-0142", "email": "", **fields}
    with pytest.raises(ValidationError) as caught:
        services.signup_public(shift=shift, **data)
    assert words in " ".join(caught.value.message_dict[field])
    assert not Volunteer.objects.exists() and not ShiftSignup.objects.exists()


def test_a_refused_signup_leaves_no_volunteer_behind(campaign):
    shift = ShiftFactory(campaign=campaign)
    services.shift_cancel(shift=shift)
    with pytest.raises(ValidationError, match="cancelled"):
        services.signup_public(shift=shift, first_name="Dana", phone="512-555-0142")
    assert not Volunteer.objects.exists()


def test_a_public_signup_after_the_start_is_refused(campaign):
    shift = ShiftFactory(campaign=campaign)
    with pytest.raises(ValidationError, match="already started"):
        services.signup_public(
            shift=shift,
            first_name="Dana",
            phone="512-555-0142",
            now=shift.starts_at + timedelta(minutes=5),
        )
    assert not ShiftSignup.objects.exists()


# --- The personal link ----------------------------------------------------------


def test_a_move_keeps_the_reminders_and_a_full_shift_waitlists(campaign, told):
    here = ShiftFactory(campaign=campaign)
    full = ShiftFactory(campaign=campaign, capacity=1)
    ShiftSignupFactory(shift=full)
    signup = ShiftSignupFactory(
        shift=here,
        volunteer=VolunteerFactory(campaign=campaign, first_name="Ana", email="ana@ex.org"),
        remind_by_email=True,
    )
    told.clear()
    moved, token = services.signup_move(signup=signup, shift=full)
    assert moved.shift == full and moved.status == Status.WAITLISTED and moved.remind_by_email
    assert ShiftSignup.objects.for_token(token).get() == moved
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.CANCELLED
    assert told == [("Ana", "moved"), ("Ana", "waitlisted")]


@pytest.mark.parametrize("target", ["same", "taken", "private", "cancelled", "elsewhere"])
def test_a_move_it_may_not_make_is_refused_and_changes_nothing(campaign, target):
    here = ShiftFactory(campaign=campaign)
    signup = ShiftSignupFactory(shift=here)
    shift = {
        "same": lambda: here,
        "private": lambda: ShiftFactory(campaign=campaign, public=False),
        "elsewhere": lambda: ShiftFactory(),
    }.get(target, lambda: ShiftFactory(campaign=campaign))()
    if target == "taken":
        ShiftSignupFactory(shift=shift, volunteer=signup.volunteer)
    if target == "cancelled":
        services.shift_cancel(shift=shift)
    before = set(ShiftSignup.objects.values_list("pk", "status"))
    with pytest.raises(ValidationError) as caught:
        services.signup_move(signup=signup, shift=shift)
    assert "shift" in " ".join(caught.value.messages)
    assert set(ShiftSignup.objects.values_list("pk", "status")) == before


def test_the_personal_link_is_stored_hashed_and_a_new_one_ends_the_old(campaign):
    signup = ShiftSignupFactory(shift=ShiftFactory(campaign=campaign))
    row = ShiftSignup.objects.get(pk=signup.pk)
    assert row.token_hash == hash_link_token(signup.token)
    assert signup.token not in (row.token_hash, row.link_nonce)
    assert ShiftSignup.objects.for_token(signup.token).get() == row
    # A message written later can carry the same link again.
    assert services.signup_link_token(row) == signup.token

    new = services.signup_link_reissue(signup=row)
    assert not ShiftSignup.objects.for_token(signup.token).exists()
    assert ShiftSignup.objects.for_token(new).get() == row
    assert services.signup_link_revoke(signup=row) is True
    row.refresh_from_db()
    assert row.link_revoked_at is not None and services.signup_link_token(row) is None


# --- Moving and cancelling shifts ---------------------------------------------


def test_moving_a_shift_moves_its_links_and_tells_everyone_expected(campaign, organizer, told):
    shift = ShiftFactory(campaign=campaign)
    turf = TurfFactory(campaign=campaign, doors=2)
    shift.turfs.add(turf)
    signup = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Ana")
    )
    services.signup_check_in(signup=signup, now=shift.starts_at - timedelta(days=1))
    assignment, _ = services.shift_hand_out(
        shift=shift,
        turf=turf,
        volunteers=[signup.volunteer],
        now=shift.starts_at - timedelta(days=1),
    )
    services.signup_check_in_undo(signup=signup)
    told.clear()
    later = shift.ends_at + timedelta(days=2)

    services.shift_update(shift=shift, starts_at=later - timedelta(hours=3), ends_at=later)

    assignment.refresh_from_db()
    assert assignment.expires_at == later + timedelta(hours=12)
    assert told == [("Ana", "shift_moved")]
    assert ShiftSignup.objects.get(pk=signup.pk).plan_version == signup.plan_version + 1


def test_cancelling_a_shift_takes_everyone_off_and_turns_its_links_off(campaign, organizer, told):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    turf = TurfFactory(campaign=campaign, doors=2)
    shift.turfs.add(turf)
    held = ShiftSignupFactory(shift=shift)
    waiting = ShiftSignupFactory(shift=shift)
    services.signup_check_in(signup=held)
    assignment, _ = services.shift_hand_out(shift=shift, turf=turf, volunteers=[held.volunteer])
    told.clear()

    assert services.shift_cancel(shift=shift, cancelled_by=organizer) is True

    assert ShiftSignup.objects.get(pk=waiting.pk).status == Status.CANCELLED
    assert ShiftSignup.objects.get(pk=held.pk).status == Status.ATTENDED  # they came
    assert [event for _, event in told] == ["shift_cancelled"]
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert services.shift_cancel(shift=shift) is False
    with pytest.raises(ValidationError, match="cancelled"):
        services.shift_update(shift=shift, name="Back on")


def test_a_finished_shift_cannot_be_moved_or_cancelled(campaign):
    shift = ShiftFactory(campaign=campaign)
    after = shift.ends_at + timedelta(minutes=1)
    with pytest.raises(ValidationError) as caught:
        services.shift_update(
            shift=shift,
            starts_at=shift.starts_at + timedelta(days=1),
            ends_at=shift.ends_at + timedelta(days=1),
            now=after,
        )
    assert "over" in caught.value.message_dict["starts_at"][0]
    with pytest.raises(ValidationError, match="over"):
        services.shift_cancel(shift=shift, now=after)
    # Its notes may still change.
    services.shift_update(shift=shift, notes="Thanks, everyone", now=after)
    assert Shift.objects.get(pk=shift.pk).notes == "Thanks, everyone"


def test_a_running_shift_may_run_longer_but_not_start_again_or_end_before_now(campaign):
    shift = ShiftFactory(campaign=campaign)
    during = shift.starts_at + timedelta(minutes=30)
    services.shift_update(shift=shift, ends_at=shift.ends_at + timedelta(hours=1), now=during)
    longer = Shift.objects.get(pk=shift.pk)
    assert longer.ends_at == shift.ends_at + timedelta(hours=1)
    assert longer.starts_at == shift.starts_at

    with pytest.raises(ValidationError) as caught:
        services.shift_update(shift=shift, ends_at=during - timedelta(minutes=5), now=during)
    assert "already passed" in caught.value.message_dict["ends_at"][0]
    with pytest.raises(ValidationError) as caught:
        services.shift_update(shift=shift, starts_at=during - timedelta(hours=1), now=during)
    assert "in the past" in caught.value.message_dict["starts_at"][0]
    assert Shift.objects.get(pk=shift.pk).ends_at == longer.ends_at


# --- Check-in, walk-ins, the hand-out and the no-show sweep -----------------------


def test_check_in_and_its_undo(campaign, organizer):
    signup = ShiftSignupFactory(shift=ShiftFactory(campaign=campaign))
    services.signup_confirm(signup=signup)
    assert services.signup_check_in(signup=signup, checked_in_by=organizer) is True
    assert services.signup_check_in(signup=signup) is False
    row = ShiftSignup.objects.get(pk=signup.pk)
    assert row.status == Status.ATTENDED and row.checked_in_by == organizer
    assert services.signup_check_in_undo(signup=row) is True
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.CONFIRMED


def test_a_waitlisted_person_checks_in_only_when_a_spot_is_free(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    ShiftSignupFactory(shift=shift)
    waiting = ShiftSignupFactory(shift=shift)
    with pytest.raises(ValidationError, match="full"):
        services.signup_check_in(signup=waiting)
    assert ShiftSignup.objects.get(pk=waiting.pk).status == Status.WAITLISTED


def test_a_walk_in_is_added_and_checked_in_and_a_known_one_is_recognised(campaign, organizer):
    shift = ShiftFactory(campaign=campaign, capacity=2)
    known = VolunteerFactory(campaign=campaign, first_name="Vera", phone="+15125550101")
    walk_in = services.signup_walk_in(
        shift=shift, first_name="Sam", phone="512 555 0177", checked_in_by=organizer
    )
    assert walk_in.status == Status.ATTENDED and walk_in.source == ShiftSignup.Source.WALK_IN
    assert walk_in.checked_in_by == organizer
    again = services.signup_walk_in(shift=shift, first_name="V", phone="(512) 555-0101")
    assert again.volunteer_id == known.pk and again.status == Status.ATTENDED
    with pytest.raises(ValidationError, match="full"):
        services.signup_walk_in(shift=shift, first_name="Late", phone="512 555 0188")
    assert Volunteer.objects.count() == 2


def test_a_turf_goes_from_the_pool_to_checked_in_volunteers_only(campaign, organizer):
    shift = ShiftFactory(campaign=campaign)
    pool_turf, other_turf = TurfFactory(campaign=campaign, doors=3), TurfFactory(campaign=campaign)
    shift.turfs.add(pool_turf)
    here = ShiftSignupFactory(shift=shift)
    partner = ShiftSignupFactory(shift=shift)
    services.signup_check_in(signup=here)

    with pytest.raises(ValidationError) as caught:
        services.shift_hand_out(shift=shift, turf=other_turf, volunteers=[here.volunteer])
    assert "not in this shift's pool" in caught.value.message_dict["turf"][0]
    with pytest.raises(ValidationError, match="Check in"):
        services.shift_hand_out(
            shift=shift, turf=pool_turf, volunteers=[here.volunteer, partner.volunteer]
        )
    assert not Assignment.objects.exists()

    services.signup_check_in(signup=partner)
    assignment, token = services.shift_hand_out(
        shift=shift,
        turf=pool_turf,
        volunteers=[here.volunteer, partner.volunteer],
        handed_out_by=organizer,
    )
    assert assignment.shift == shift and token
    assert set(assignment.volunteers.all()) == {here.volunteer, partner.volunteer}
    assert assignment.expires_at == shift.ends_at + timedelta(hours=12)


def test_the_sweep_makes_no_shows_an_hour_after_the_end_and_only_then(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=3)
    signed, confirmed, came, waiting = (ShiftSignupFactory(shift=shift) for _ in range(4))
    services.signup_confirm(signup=confirmed)
    services.signup_check_in(signup=came)
    cancelled_shift = ShiftFactory(campaign=campaign, starts_at=shift.starts_at)
    kept = ShiftSignupFactory(shift=cancelled_shift)
    services.shift_cancel(shift=cancelled_shift)

    assert services.signups_no_show_sweep(now=shift.ends_at + timedelta(minutes=59)) == 0
    assert services.signups_no_show_sweep(now=shift.ends_at + timedelta(hours=1)) == 2
    status = {
        s.pk: ShiftSignup.objects.get(pk=s.pk).status
        for s in (signed, confirmed, came, waiting, kept)
    }
    assert status == {
        signed.pk: Status.NO_SHOW,
        confirmed.pk: Status.NO_SHOW,
        came.pk: Status.ATTENDED,
        waiting.pk: Status.WAITLISTED,
        kept.pk: Status.CANCELLED,
    }
    assert services.signups_no_show_sweep(now=shift.ends_at + timedelta(hours=2)) == 0


def test_the_sweep_runs_as_a_beat_task():
    from canvass.celery import app
    from canvass.tasks import shifts_no_show_sweep

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "canvass.tasks.shifts_no_show_sweep" in schedule
    assert shifts_no_show_sweep.name == "canvass.tasks.shifts_no_show_sweep"


def test_an_organizer_may_correct_a_no_show_after_the_sweep(campaign, organizer):
    shift = ShiftFactory(campaign=campaign)
    signup = ShiftSignupFactory(shift=shift)
    services.signups_no_show_sweep(now=shift.ends_at + timedelta(hours=1))
    services.signup_status_set(signup=signup, status=Status.ATTENDED, changed_by=organizer)
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.ATTENDED
    with pytest.raises(ValidationError, match="before the shift has started"):
        services.signup_status_set(
            signup=ShiftSignupFactory(shift=ShiftFactory(campaign=campaign)), status=Status.NO_SHOW
        )


def test_a_user_outside_the_campaign_is_no_contact(campaign):
    day = next_weekday(3)
    stranger = UserFactory()
    with pytest.raises(ValidationError):
        services.shift_create(
            campaign=campaign,
            starts_at=local(campaign, day, 10),
            ends_at=local(campaign, day, 12),
            contact=stranger,
        )
