"""The reminder outbox: each due row is sent once, at a decent hour, or not at all."""

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend

from canvass.messaging import SmsError, SmsOutcomeUnknown
from conversations.models import Channel, Commitment, OptOut, Reminder
from conversations.services import delivery, reminder_create, reminder_send
from conversations.tasks import reminder_send as reminder_send_task
from tests.conftest import Sms
from tests.factories import CommitmentFactory, PersonFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
AUSTIN_PHONE = "+15125550123"  # America/Chicago, the campaign's own zone
OAKLAND_PHONE = "+14155550132"  # America/Los_Angeles
# A weekday well away from daylight-saving changes.
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
LATE_EVENING = NOON.replace(hour=22, minute=30)
EARLY_MORNING = NOON.replace(hour=6, minute=0)


def next_morning(campaign, local_now):
    """When quiet hours end after `local_now`, computed from the campaign's own settings."""
    day = local_now.date()
    if local_now.timetz().replace(tzinfo=None) >= campaign.quiet_hours_start:
        day += timedelta(days=1)
    return datetime.combine(day, campaign.quiet_hours_end, tzinfo=local_now.tzinfo)


class ScriptedSms:
    """An SMS provider that fails the way the test says (see `sms_failing_with`)."""

    error = None
    calls = []

    def send(self, *, to, body, idempotency_key=""):
        type(self).calls.append(to)
        raise type(self).error


class RefusedEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


@pytest.fixture
def sms_failing_with(settings, monkeypatch):
    """Make every SMS fail with the given exception; returns the list of attempted sends."""
    monkeypatch.setattr(ScriptedSms, "calls", [])
    settings.SMS_BACKEND = f"{__name__}.ScriptedSms"

    def fail_with(error):
        monkeypatch.setattr(ScriptedSms, "error", error)
        return ScriptedSms.calls

    return fail_with


def reload(reminder):
    reminder.refresh_from_db()
    return reminder


# --- Sending once -------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_due_reminder_is_sent(campaign, sent_sms):
    reminder = ReminderFactory(campaign=campaign, send_at=NOON - timedelta(minutes=1))

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT

    reload(reminder)
    assert reminder.status == Reminder.Status.SENT
    assert reminder.sent_at == NOON
    assert reminder.attempts == 1
    assert reminder.provider_id
    assert sent_sms() == [Sms(to=reminder.to, body=reminder.body)]


@time_machine.travel(NOON, tick=False)
def test_sending_twice_sends_once(campaign, sent_sms):
    reminder = ReminderFactory(campaign=campaign)

    first = reminder_send(reminder_id=reminder.pk)
    second = reminder_send(reminder_id=reminder.pk)

    assert (first, second) == (Reminder.Status.SENT, None)
    assert len(sent_sms()) == 1
    assert reload(reminder).attempts == 1


@time_machine.travel(NOON, tick=False)
def test_the_task_sends_through_the_service(campaign, sent_sms):
    reminder = ReminderFactory(campaign=campaign)
    assert reminder_send_task.run(reminder.pk) == Reminder.Status.SENT
    assert reminder_send_task.run(reminder.pk) is None
    assert sent_sms() == [Sms(to=reminder.to, body=reminder.body)]


@time_machine.travel(NOON, tick=False)
def test_email_reminder_goes_through_django_mail(campaign, mailoutbox, sent_sms):
    reminder = ReminderFactory(
        campaign=campaign,
        channel=Channel.EMAIL,
        to="maria@example.org",
        subject="Tenants' meeting on Thursday",
    )

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    assert reminder_send(reminder_id=reminder.pk) is None

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [reminder.to]
    assert message.subject == reminder.subject
    assert message.body == reminder.body
    assert sent_sms() == []


@time_machine.travel(NOON, tick=False)
def test_reminder_not_yet_due_waits(campaign, sent_sms):
    reminder = ReminderFactory(campaign=campaign, send_at=NOON + timedelta(hours=1))

    assert reminder_send(reminder_id=reminder.pk) is None
    reload(reminder)
    assert (reminder.status, reminder.attempts) == (Reminder.Status.PENDING, 0)
    assert sent_sms() == []

    with time_machine.travel(reminder.send_at, tick=False):
        assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    assert len(sent_sms()) == 1


# --- People who must not be messaged ---------------------------------------


@time_machine.travel(NOON, tick=False)
def test_opted_out_phone_is_suppressed(campaign, sent_sms):
    reminder = ReminderFactory(campaign=campaign, to=AUSTIN_PHONE)
    OptOut.objects.create(address=AUSTIN_PHONE, keyword="STOP")

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert reload(reminder).status == Reminder.Status.SUPPRESSED
    assert sent_sms() == []


@time_machine.travel(NOON, tick=False)
def test_opted_out_email_is_suppressed_whatever_its_case(campaign, mailoutbox):
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="Maria@Example.org")
    OptOut.objects.create(address="maria@example.org", source="email_link")

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert mailoutbox == []


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize("reason", ["cancelled", "do_not_contact"])
def test_reminder_about_a_dead_commitment_is_suppressed(campaign, sent_sms, reason):
    person = PersonFactory(campaign=campaign, do_not_contact=reason == "do_not_contact")
    commitment = CommitmentFactory(campaign=campaign, person=person)
    if reason == "cancelled":
        Commitment.objects.filter(pk=commitment.pk).update(status=Commitment.Status.CANCELLED)
    reminder = ReminderFactory(campaign=campaign, commitment=commitment)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert sent_sms() == []


# --- Quiet hours --------------------------------------------------------------


@pytest.mark.parametrize("local_now", [LATE_EVENING, EARLY_MORNING], ids=["evening", "morning"])
def test_quiet_hours_defer_to_the_next_morning(campaign, sent_sms, local_now):
    with time_machine.travel(local_now, tick=False):
        reminder = ReminderFactory(campaign=campaign, to=AUSTIN_PHONE)
        assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING

    reload(reminder)
    assert reminder.status == Reminder.Status.PENDING
    assert reminder.send_at == next_morning(campaign, local_now)
    # A deferral is not an attempt: it must not eat into the retry budget.
    assert reminder.attempts == 0
    assert sent_sms() == []

    with time_machine.travel(reminder.send_at, tick=False):
        assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    assert len(sent_sms()) == 1


def test_quiet_hours_are_the_recipients_not_the_campaigns(campaign, sent_sms):
    # 22:30 in Austin is 20:30 in Oakland: still a decent hour there.
    with time_machine.travel(LATE_EVENING, tick=False):
        evening = ReminderFactory(campaign=campaign, to=OAKLAND_PHONE)
        assert reminder_send(reminder_id=evening.pk) == Reminder.Status.SENT

    # 07:30 in Austin is 05:30 in Oakland: wait for 08:00 Oakland time.
    austin_morning = NOON.replace(hour=7, minute=30)
    with time_machine.travel(austin_morning, tick=False):
        morning = ReminderFactory(campaign=campaign, to=OAKLAND_PHONE)
        assert reminder_send(reminder_id=morning.pk) == Reminder.Status.PENDING
    expected = next_morning(campaign, austin_morning.astimezone(LOS_ANGELES))
    assert reload(morning).send_at == expected
    assert [sms.to for sms in sent_sms()] == [OAKLAND_PHONE]


@time_machine.travel(LATE_EVENING, tick=False)
def test_reminder_for_an_event_over_by_morning_is_suppressed(campaign, sent_sms):
    vigil = CommitmentFactory(campaign=campaign, when=LATE_EVENING + timedelta(minutes=30))
    reminder = ReminderFactory(campaign=campaign, commitment=vigil, to=AUSTIN_PHONE)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert reload(reminder).status == Reminder.Status.SUPPRESSED
    assert sent_sms() == []


@time_machine.travel(LATE_EVENING, tick=False)
def test_reminder_for_a_later_event_is_deferred_not_dropped(campaign, sent_sms):
    meeting = CommitmentFactory(campaign=campaign, when=NOON + timedelta(days=1))
    reminder = ReminderFactory(campaign=campaign, commitment=meeting, to=AUSTIN_PHONE)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING
    assert reload(reminder).send_at == next_morning(campaign, LATE_EVENING)


# --- Provider failures --------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_temporary_failure_retries_with_growing_backoff_then_fails(
    campaign, sent_sms, sms_failing_with
):
    calls = sms_failing_with(SmsError("provider answered 503"))
    reminder = ReminderFactory(campaign=campaign)

    gaps = []
    while reminder.status == Reminder.Status.PENDING:
        attempted_at = reminder.send_at
        with time_machine.travel(attempted_at, tick=False):
            reminder_send(reminder_id=reminder.pk)
        reload(reminder)
        if reminder.status == Reminder.Status.PENDING:
            assert reminder.last_error == "provider answered 503"
            gaps.append(reminder.send_at - attempted_at)
        assert len(calls) <= delivery.MAX_ATTEMPTS, "retried past the limit"

    assert reminder.status == Reminder.Status.FAILED
    assert reminder.attempts == len(calls) == delivery.MAX_ATTEMPTS
    assert all(gap > timedelta(0) for gap in gaps)
    assert gaps == sorted(set(gaps)), "each retry waits longer than the one before"
    assert sent_sms() == []


@time_machine.travel(NOON, tick=False)
def test_permanent_failure_is_not_retried(campaign, sms_failing_with):
    calls = sms_failing_with(SmsError("provider answered 400", permanent=True))
    reminder = ReminderFactory(campaign=campaign)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.FAILED
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        assert reminder_send(reminder_id=reminder.pk) is None

    reload(reminder)
    assert (reminder.status, reminder.attempts) == (Reminder.Status.FAILED, 1)
    assert reminder.last_error == "provider answered 400"
    assert len(calls) == 1


@time_machine.travel(NOON, tick=False)
def test_unknown_outcome_is_never_resent(campaign, sms_failing_with):
    calls = sms_failing_with(SmsOutcomeUnknown("provider did not answer in time"))
    reminder = ReminderFactory(campaign=campaign)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.UNKNOWN
    later = NOON + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        assert reminder_send(reminder_id=reminder.pk) is None
        assert delivery.reminders_recover_stale() == (0, 0)
        assert reminder.pk not in delivery.reminders_due_ids()

    assert reload(reminder).status == Reminder.Status.UNKNOWN
    assert len(calls) == 1


@time_machine.travel(NOON, tick=False)
def test_mail_server_refusing_is_retried_later(campaign, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.RefusedEmailBackend"
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="maria@example.org")

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING
    reload(reminder)
    assert reminder.send_at > NOON
    assert "refused" in reminder.last_error
    assert mailoutbox == []


# --- Housekeeping and creation ------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_rows_stuck_in_sending_after_the_provider_call_become_unknown(campaign, sent_sms):
    stale = delivery.STALE_SENDING_AFTER
    stuck = ReminderFactory(
        campaign=campaign,
        status=Reminder.Status.SENDING,
        claimed_at=NOON - stale - timedelta(minutes=1),
        provider_called_at=NOON - stale - timedelta(minutes=1),
        attempts=1,
    )
    in_flight = ReminderFactory(
        campaign=campaign,
        status=Reminder.Status.SENDING,
        claimed_at=NOON - stale + timedelta(minutes=1),
        provider_called_at=NOON - stale + timedelta(minutes=1),
        attempts=1,
    )
    waiting = ReminderFactory(campaign=campaign)

    assert delivery.reminders_recover_stale() == (0, 1)

    assert reload(stuck).status == Reminder.Status.UNKNOWN
    assert reload(in_flight).status == Reminder.Status.SENDING
    assert reload(waiting).status == Reminder.Status.PENDING
    # Neither the stuck row nor the one still being sent may go out a second time.
    assert reminder_send(reminder_id=stuck.pk) is None
    assert reminder_send(reminder_id=in_flight.pk) is None
    assert sent_sms() == []


@time_machine.travel(NOON, tick=False)
def test_same_idempotency_key_twice_gives_one_row_and_one_send(
    campaign, django_capture_on_commit_callbacks
):
    fields = dict(campaign=campaign, channel=Channel.SMS, to=AUSTIN_PHONE, send_at=NOON)
    with django_capture_on_commit_callbacks() as callbacks:
        first = reminder_create(idempotency_key="c-1-day-before", body="See you", **fields)
        second = reminder_create(idempotency_key="c-1-day-before", body="Changed", **fields)

    assert first.pk == second.pk
    assert Reminder.objects.filter(idempotency_key="c-1-day-before").count() == 1
    assert Reminder.objects.get(pk=first.pk).body == "See you"
    assert len(callbacks) == 1
    # Only the id travels to the worker, and only after the commit.
    task, args, kwargs = callbacks[0].args
    assert (task, args, kwargs) == (reminder_send_task, (first.pk,), {})


@time_machine.travel(NOON, tick=False)
def test_future_reminder_is_left_to_the_sweep(campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        reminder = reminder_create(
            campaign=campaign,
            channel=Channel.SMS,
            to=AUSTIN_PHONE,
            body="See you tomorrow",
            send_at=NOON + timedelta(days=1),
            idempotency_key="c-2-morning-of",
        )
    assert callbacks == []
    assert reminder.pk not in delivery.reminders_due_ids()
    with time_machine.travel(reminder.send_at, tick=False):
        assert delivery.reminders_due_ids() == [reminder.pk]


def test_no_quiet_hours_when_start_equals_end(campaign, sent_sms):
    # The real-worker test relies on this to be independent of the time of day.
    campaign.quiet_hours_start = campaign.quiet_hours_end = time(0, 0)
    campaign.save()
    with time_machine.travel(NOON.replace(hour=3), tick=False):
        reminder = ReminderFactory(campaign=campaign, to=AUSTIN_PHONE)
        assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    assert len(sent_sms()) == 1
