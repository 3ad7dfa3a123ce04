"""Never twice: real provider calls against local fakes that take a message and then fail.

Only a failure known to have happened before the request left this machine is retried;
anything after (a 5xx, a reset, a closed connection, no answer in time) is "unknown".
"""

import time
import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine

from conversations.models import Channel, Reminder
from conversations.services import delivery, reminder_send, reminders_recover_stale
from tests.factories import ReminderFactory
from tests.fake_providers import FakeSmtp, FakeTwilio, closed_port

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
PHONE = "+15125550123"

frozen = time_machine.travel(NOON, tick=False)


def reload(reminder):
    reminder.refresh_from_db()
    return reminder


def twilio_settings(settings, url):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_URL = url
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "secret"
    settings.SMS_FROM_NUMBER = "+15125550000"
    settings.SMS_TIMEOUT = 2


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    twilio_settings(settings, fake.url)
    yield fake
    fake.stop()


@pytest.fixture
def smtp(settings):
    fake = FakeSmtp().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", fake.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 2
    yield fake
    fake.stop()


def never_again(reminder):
    """Days of sweeps and dispatches later, nothing sends it by itself."""
    for days in (1, 2):
        with time_machine.travel(NOON + timedelta(days=days), tick=False):
            reminders_recover_stale()
            assert reminder.pk not in delivery.reminders_dispatch()
            assert reminder_send(reminder_id=reminder.pk) is None


@frozen
def test_a_text_twilio_took_is_sent_once_with_the_outbox_key(campaign, twilio):
    reminder = ReminderFactory(campaign=campaign, to=PHONE, body="Meeting at 7.")

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT

    assert reload(reminder).provider_id.startswith("SM")
    assert twilio.messages() == [(PHONE, "Meeting at 7.")]
    headers, form = twilio.requests[0]
    assert form["From"] == "+15125550000"
    assert headers["i-twilio-idempotency-token"] == reminder.idempotency_key
    assert headers["idempotency-key"] == reminder.idempotency_key


@frozen
@pytest.mark.parametrize("mode", [502, 504, 500, 503, "reset", "close"])
def test_a_text_the_provider_took_then_failed_is_unknown_never_resent(campaign, twilio, mode):
    twilio.mode = mode
    reminder = ReminderFactory(campaign=campaign, to=PHONE, body="Rent strike, Thursday.")

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.UNKNOWN
    assert reload(reminder).attempts == 1
    never_again(reminder)

    assert twilio.messages() == [(PHONE, "Rent strike, Thursday.")], "one copy, not five"
    assert reload(reminder).status == Reminder.Status.UNKNOWN
    assert reminder.last_error


@frozen
def test_twilio_unreachable_is_retried_because_nothing_left(campaign, settings):
    twilio_settings(settings, f"http://127.0.0.1:{closed_port()}")
    reminder = ReminderFactory(campaign=campaign, to=PHONE)

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING
    assert reload(reminder).send_at > NOON
    assert "Could not reach Twilio" in reminder.last_error


@frozen
@pytest.mark.parametrize("status, outcome", [(429, "pending"), (400, "failed"), (404, "failed")])
def test_a_refusal_from_twilio_is_retried_or_failed(campaign, twilio, status, outcome):
    twilio.mode = status
    reminder = ReminderFactory(campaign=campaign, to=PHONE)
    assert reminder_send(reminder_id=reminder.pk) == outcome
    assert f"Twilio answered {status}" in reload(reminder).last_error
    assert len(twilio.requests) == 1


@frozen
def test_a_provider_that_trickles_its_answer_is_cut_off_at_the_deadline(campaign, twilio):
    # Each byte comes well within the per-read timeout; the whole answer would take ~80 s.
    twilio.mode, twilio.trickle_every = "trickle", 0.5
    reminder = ReminderFactory(campaign=campaign, to=PHONE)

    started = time.monotonic()
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.UNKNOWN
    took = time.monotonic() - started

    assert took < 2 + 1.5, f"the call lasted {took:.1f} s with SMS_TIMEOUT=2"
    assert "within 2 s" in reload(reminder).last_error
    assert len(twilio.requests) == 1


@frozen
def test_an_email_the_server_took_before_dropping_is_unknown_never_resent(campaign, smtp, settings):
    smtp.mode = "drop_after_data"
    reminder = ReminderFactory(
        campaign=campaign, channel=Channel.EMAIL, to="maria@example.org", subject="Tonight"
    )

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.UNKNOWN
    never_again(reminder)

    assert len(smtp.messages) == 1
    assert reminder.idempotency_key.replace(":", ".") in smtp.messages[0]["Message-ID"]


@frozen
def test_an_email_sent_over_smtp_is_sent(campaign, smtp):
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="maria@example.org")
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    assert [m["To"] for m in smtp.messages] == ["maria@example.org"]


@frozen
@pytest.mark.parametrize(
    "mode, outcome",
    [
        ("refuse_rcpt_450", Reminder.Status.PENDING),
        ("refuse_rcpt_550", Reminder.Status.FAILED),
        ("refuse_data_554", Reminder.Status.FAILED),
    ],
)
def test_an_email_the_server_refused_is_retried_or_failed(campaign, smtp, mode, outcome):
    smtp.mode = mode
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="maria@example.org")
    assert reminder_send(reminder_id=reminder.pk) == outcome
    assert "refused" in reload(reminder).last_error


@frozen
def test_an_unreachable_mail_server_is_retried(campaign, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="maria@example.org")
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING
    assert "Could not reach the mail server" in reload(reminder).last_error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_success_settles_a_row_the_sweep_marked_unknown(settings, twilio):
    from datetime import time as clock

    from django.db import connection

    from tests.factories import CampaignFactory

    # The stale window is shorter than this (slow) call: the sweep runs mid-call.
    settings.REMINDERS_STALE_SENDING_SECONDS = 0
    settings.SMS_TIMEOUT = 10
    awake = CampaignFactory(quiet_hours_start=clock(0, 0), quiet_hours_end=clock(0, 0))
    reminder = ReminderFactory(campaign=awake, to=PHONE)
    swept = []

    def sweep_while_the_provider_thinks():
        try:
            swept.append(reminders_recover_stale())
            swept.append(Reminder.objects.get(pk=reminder.pk).status)
        finally:
            connection.close()

    twilio.mode, twilio.delay, twilio.on_request = "slow", 0.3, sweep_while_the_provider_thinks

    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT

    assert swept == [(0, 1), Reminder.Status.UNKNOWN]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert reminder.provider_id.startswith("SM")
    assert "then confirmed" in reminder.last_error
    assert len(twilio.requests) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_success_after_send_again_was_asked_is_not_sent_twice(
    settings, twilio, organizer, campaign
):
    from datetime import time as clock

    from django.db import connection

    from conversations.services import reminder_resolve

    settings.REMINDERS_STALE_SENDING_SECONDS = 0
    settings.SMS_TIMEOUT = 10
    campaign.quiet_hours_start = campaign.quiet_hours_end = clock(0, 0)
    campaign.save()
    reminder = ReminderFactory(campaign=campaign, to=PHONE)

    def sweep_then_a_person_asks_to_resend():
        try:
            reminders_recover_stale()
            reminder_resolve(
                reminder=Reminder.objects.get(pk=reminder.pk), outcome="resend", by=organizer
            )
        finally:
            connection.close()

    twilio.mode, twilio.delay, twilio.on_request = "slow", 0.3, sweep_then_a_person_asks_to_resend
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SENT
    # The resend the person asked for finds the row already settled.
    assert reminder_send(reminder_id=reminder.pk) is None
    assert reload(reminder).status == Reminder.Status.SENT
    assert len(twilio.requests) == 1


def test_a_deadline_longer_than_the_stale_window_is_flagged(settings):
    from conversations.services.delivery import deadline_check

    settings.SMS_TIMEOUT, settings.EMAIL_TIMEOUT = 15, 20
    settings.REMINDERS_STALE_SENDING_SECONDS = 600
    assert deadline_check() == []
    settings.SMS_TIMEOUT = 900
    (warning,) = deadline_check()
    assert warning.id == "conversations.W001" and "SMS_TIMEOUT" in warning.msg
