"""A volunteer's shift messages: the confirmation, the reminder plan and its rewrites, and
the YES / NO replies, all through the commitments' outbox (canvass/services/notify.py)."""

import zoneinfo
from datetime import datetime

import pytest
import time_machine

from canvass import services
from canvass.models import ShiftSignup
from conversations.models import Channel, InboundSms, MessageTemplate, OptOut, Reminder, Step
from conversations.services import reminder_send
from tests.conversations.test_webhooks import text
from tests.factories import ShiftFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 8, 12, 0, tzinfo=CHICAGO)  # a Tuesday
START = datetime(2026, 12, 12, 10, 0, tzinfo=CHICAGO)  # Saturday 10:00–13:00
END = datetime(2026, 12, 12, 13, 0, tzinfo=CHICAGO)
VERA = "+15125550101"
Status = ShiftSignup.Status
Pending = Reminder.Status.PENDING


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-test-auth-token"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shift(campaign):
    campaign.sender_name = "Eastside Tenants"
    campaign.save()
    return ShiftFactory(
        campaign=campaign,
        name="Saturday canvass",
        starts_at=START,
        ends_at=END,
        place="Union hall, 12 Elm St",
        capacity=1,
    )


def vera(campaign, **fields):
    return VolunteerFactory(
        campaign=campaign,
        first_name="Vera",
        phone=VERA,
        email="vera@example.org",
        **fields,
    )


def wes(campaign):
    return VolunteerFactory(campaign=campaign, first_name="Wes", phone="+15125550109")


def sign_up(shift, volunteer, *, sms=True, email=True):
    signup, token = services.signup_create(
        shift=shift, volunteer=volunteer, remind_by_sms=sms, remind_by_email=email
    )
    return signup, token


def plan(signup, status=Pending):
    """[(step, channel, local send time)] in time order."""
    rows = [
        (r.step, r.channel, r.send_at.astimezone(CHICAGO).replace(tzinfo=None))
        for r in Reminder.objects.filter(signup=signup, status=status)
    ]
    return sorted(rows, key=lambda row: (row[2], row[0], row[1]))


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute)


def send_due(when):
    """Run the outbox at `when`, as the worker would; {reminder id: new status}."""
    with time_machine.travel(when, tick=False):
        return {
            r.pk: reminder_send(reminder_id=r.pk)
            for r in Reminder.objects.filter(status=Pending, send_at__lte=when)
        }


# --- The plan --------------------------------------------------------------------


def test_a_signup_is_confirmed_at_once_and_reminded_on_the_cadence_with_its_link(shift):
    signup, token = sign_up(shift, vera(shift.campaign))
    assert plan(signup) == [
        (Step.SHIFT_CONFIRM, Channel.EMAIL, at(8, 12)),
        (Step.SHIFT_CONFIRM, Channel.SMS, at(8, 12)),
        (Step.SHIFT_DAY_BEFORE, Channel.EMAIL, at(11, 11)),
        (Step.SHIFT_DAY_BEFORE, Channel.SMS, at(11, 11)),
        (Step.SHIFT_MORNING, Channel.EMAIL, at(12, 8)),
        (Step.SHIFT_SOON, Channel.SMS, at(12, 9, 30)),
        # One thank-you, by email when there is one, an hour after the end.
        (Step.SHIFT_THANKS, Channel.EMAIL, at(12, 14)),
    ]
    link = f"/s/{token}/"
    rows = Reminder.objects.filter(signup=signup)
    assert all(link in r.body for r in rows.exclude(step=Step.SHIFT_THANKS))
    confirm = rows.get(step=Step.SHIFT_CONFIRM, channel=Channel.SMS)
    assert confirm.to == VERA and "Saturday canvass" in confirm.body
    assert "Saturday Dec 12 at 10am" in confirm.body and "Union hall, 12 Elm St" in confirm.body
    assert "Reply STOP" in confirm.body
    soon = rows.get(step=Step.SHIFT_SOON)
    assert "Union hall, 12 Elm St" in soon.body
    assert "YES" in rows.get(step=Step.SHIFT_DAY_BEFORE, channel=Channel.SMS).body


def test_only_the_channels_they_agreed_to_and_never_an_opted_out_one(shift):
    OptOut.objects.create(address="vera@example.org")
    signup, _token = sign_up(shift, vera(shift.campaign), sms=True, email=True)
    assert {r.channel for r in Reminder.objects.filter(signup=signup)} == {Channel.SMS}
    # Without email, the thank-you goes by text.
    assert (Step.SHIFT_THANKS, Channel.SMS, at(12, 14)) in plan(signup)

    other = ShiftFactory(campaign=shift.campaign, starts_at=START, ends_at=END)
    quiet, _token = sign_up(
        other,
        VolunteerFactory(campaign=shift.campaign, phone="+15125550102"),
        sms=False,
        email=False,
    )
    assert not Reminder.objects.filter(signup=quiet).exists()


def test_a_signup_the_day_before_skips_what_would_repeat_the_confirmation(shift):
    with time_machine.travel(datetime(2026, 12, 11, 18, 0, tzinfo=CHICAGO), tick=False):
        signup, _token = sign_up(shift, vera(shift.campaign))
    assert [step for step, _c, _t in plan(signup)] == [
        Step.SHIFT_CONFIRM,
        Step.SHIFT_CONFIRM,
        Step.SHIFT_MORNING,
        Step.SHIFT_SOON,
        Step.SHIFT_THANKS,
    ]


def test_the_waitlist_is_told_its_place_and_gets_the_plan_once_promoted(shift):
    first, _token = sign_up(shift, vera(shift.campaign))
    waiting, _token = sign_up(shift, wes(shift.campaign), email=False)
    assert waiting.status == Status.WAITLISTED
    assert plan(waiting) == [(Step.SHIFT_WAITLIST, Channel.SMS, at(8, 12))]
    services.signup_cancel(signup=first)
    # Cancelling a signup cancels its reminders; the first in line is told and reminded.
    assert plan(first) == []
    assert len(plan(first, Reminder.Status.CANCELLED)) == 7
    assert [step for step, _c, _t in plan(waiting)] == [
        Step.SHIFT_PROMOTED,
        Step.SHIFT_DAY_BEFORE,
        Step.SHIFT_SOON,
        Step.SHIFT_THANKS,
    ]


def test_moving_the_shift_moves_the_plan_and_says_so(shift, organizer):
    signup, _token = sign_up(shift, vera(shift.campaign))
    send_due(NOW)  # the confirmations went out
    services.shift_update(
        shift=shift,
        starts_at=datetime(2026, 12, 13, 14, 0, tzinfo=CHICAGO),
        ends_at=datetime(2026, 12, 13, 17, 0, tzinfo=CHICAGO),
        changed_by=organizer,
    )
    assert len(plan(signup, Reminder.Status.SENT)) == 2  # sent ones stay as they were
    assert plan(signup) == [
        (Step.SHIFT_MOVED, Channel.EMAIL, at(8, 12)),
        (Step.SHIFT_MOVED, Channel.SMS, at(8, 12)),
        (Step.SHIFT_DAY_BEFORE, Channel.EMAIL, at(12, 11)),
        (Step.SHIFT_DAY_BEFORE, Channel.SMS, at(12, 11)),
        (Step.SHIFT_MORNING, Channel.EMAIL, at(13, 8)),
        (Step.SHIFT_SOON, Channel.SMS, at(13, 13, 30)),
        (Step.SHIFT_THANKS, Channel.EMAIL, at(13, 18)),
    ]
    moved = Reminder.objects.get(signup=signup, step=Step.SHIFT_MOVED, channel=Channel.SMS)
    assert "Sunday Dec 13 at 2pm" in moved.body
    # A new staging location is told too, and rewrites what the reminders say.
    services.shift_update(shift=shift, place="The library, 5 Oak St")
    soon = Reminder.objects.get(signup=signup, step=Step.SHIFT_SOON, status=Pending)
    assert "The library, 5 Oak St" in soon.body


def test_cancelling_the_shift_tells_everyone_and_cancels_the_reminders(shift, organizer):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    send_due(NOW)
    services.shift_cancel(shift=shift, cancelled_by=organizer)
    pending = Reminder.objects.get(signup=signup, status=Pending)
    assert pending.step == Step.SHIFT_CANCELLED and f"/join/{shift.campaign.slug}/" in pending.body
    assert Reminder.objects.filter(signup=signup, status=Reminder.Status.CANCELLED).count() == 3
    assert set(send_due(NOW).values()) == {Reminder.Status.SENT}


def test_changing_the_reminders_rewrites_the_plan(shift):
    signup, token = sign_up(shift, vera(shift.campaign))
    services.signup_preferences_set(signup=signup, remind_by_sms=True, remind_by_email=False)
    assert {c for _s, c, _t in plan(signup)} == {Channel.SMS}
    assert Step.SHIFT_CONFIRM not in {s for s, _c, _t in plan(signup)}


# --- At send time --------------------------------------------------------------


def test_a_message_rechecks_the_signup_just_before_it_goes(shift, organizer, sent_sms):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    send_due(NOW)
    day_before = Reminder.objects.get(signup=signup, step=Step.SHIFT_DAY_BEFORE)
    # Checked in early: the 30-minutes text is no longer needed.
    with time_machine.travel(datetime(2026, 12, 12, 9, 0, tzinfo=CHICAGO), tick=False):
        services.signup_check_in(signup=signup, checked_in_by=organizer)
    outcomes = send_due(datetime(2026, 12, 12, 9, 31, tzinfo=CHICAGO))
    assert outcomes[day_before.pk] == Reminder.Status.SUPPRESSED  # the day had passed
    soon = Reminder.objects.get(signup=signup, step=Step.SHIFT_SOON)
    assert soon.status == Reminder.Status.SUPPRESSED and "checked in" in soon.last_error
    thanks = Reminder.objects.get(signup=signup, step=Step.SHIFT_THANKS)
    assert send_due(datetime(2026, 12, 12, 14, 1, tzinfo=CHICAGO))[thanks.pk] == "sent"
    assert "Thank you" in sent_sms()[-1].body


def test_no_thank_you_for_a_no_show(shift):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    send_due(datetime(2026, 12, 12, 9, 31, tzinfo=CHICAGO))
    with time_machine.travel(datetime(2026, 12, 12, 14, 1, tzinfo=CHICAGO), tick=False):
        services.signups_no_show_sweep()
    send_due(datetime(2026, 12, 12, 14, 1, tzinfo=CHICAGO))
    thanks = Reminder.objects.get(signup=signup, step=Step.SHIFT_THANKS)
    assert thanks.status == Reminder.Status.SUPPRESSED


def test_a_campaign_template_is_used_for_its_shift_messages(shift):
    MessageTemplate.objects.create(
        campaign=shift.campaign,
        step=Step.SHIFT_CONFIRM,
        channel=Channel.SMS,
        body="{first_name}, see you {when} at {place}: {link} Reply STOP to opt out.",
    )
    signup, token = sign_up(shift, vera(shift.campaign), email=False)
    confirm = Reminder.objects.get(signup=signup, step=Step.SHIFT_CONFIRM)
    assert confirm.body.startswith("Vera, see you Saturday Dec 12 at 10am at Union hall")
    assert token in confirm.body


# --- YES / NO --------------------------------------------------------------------


def test_yes_to_the_day_before_text_confirms_the_signup(client, shift, sent_sms):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    send_due(datetime(2026, 12, 11, 11, 0, tzinfo=CHICAGO))
    with time_machine.travel(datetime(2026, 12, 11, 11, 5, tzinfo=CHICAGO), tick=False):
        assert text(client, "Yes!", sender=VERA).status_code == 200
        send_due(datetime(2026, 12, 11, 11, 5, tzinfo=CHICAGO))
    signup.refresh_from_db()
    assert signup.status == Status.CONFIRMED and signup.confirmed_at is not None
    inbound = InboundSms.objects.get()
    assert inbound.handled_as == InboundSms.Handling.YES and inbound.signup == signup
    assert sent_sms()[-1].body.startswith("Thanks Vera! See you Saturday Dec 12 at 10am")


def test_no_to_the_day_before_text_cancels_and_gives_the_spot_to_the_waitlist(client, shift):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    waiting, _token = sign_up(shift, wes(shift.campaign), email=False)
    send_due(datetime(2026, 12, 11, 11, 0, tzinfo=CHICAGO))
    with time_machine.travel(datetime(2026, 12, 11, 11, 5, tzinfo=CHICAGO), tick=False):
        text(client, "no", sender=VERA)
    signup.refresh_from_db()
    waiting.refresh_from_db()
    assert signup.status == Status.CANCELLED and waiting.status == Status.SIGNED_UP
    assert InboundSms.objects.get().handled_as == InboundSms.Handling.NO
    # Her own reminders are off; the reply to her NO still goes.
    assert [r.step for r in Reminder.objects.filter(signup=signup, status=Pending)] == [
        Step.REPLY_NO
    ]


def test_yes_with_no_shift_question_asked_is_left_for_a_person(client, shift):
    signup, _token = sign_up(shift, vera(shift.campaign), email=False)
    send_due(NOW)  # only the confirmation, which asks nothing
    text(client, "YES", sender=VERA)
    signup.refresh_from_db()
    assert signup.status == Status.SIGNED_UP
    assert InboundSms.objects.get().handled_as == InboundSms.Handling.OTHER


# --- In the volunteer's language ----------------------------------------------------


def test_a_spanish_speaking_volunteer_gets_the_messages_in_spanish(shift):
    signup, _token = sign_up(shift, vera(shift.campaign, language="es"))
    confirm = Reminder.objects.get(signup=signup, step=Step.SHIFT_CONFIRM, channel=Channel.SMS)
    assert confirm.body.startswith("Hola Vera, ya está inscrito con Eastside Tenants")
    assert "sábado 12 de diciembre a las 10:00" in confirm.body
    assert "Responda STOP" in confirm.body
    email = Reminder.objects.get(signup=signup, step=Step.SHIFT_DAY_BEFORE, channel=Channel.EMAIL)
    assert email.subject.startswith("Mañana: Saturday canvass")
    # An English speaker on the same shift is written to in English.
    other = ShiftFactory(campaign=shift.campaign, starts_at=START, ends_at=END)
    english, _token = sign_up(other, wes(shift.campaign), email=False)
    assert Reminder.objects.filter(signup=english, body__startswith="Hi Wes").exists()
