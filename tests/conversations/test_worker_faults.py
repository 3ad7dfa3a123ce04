"""Faults around a real Celery worker on Redis and PostgreSQL: duplicates, kills, lost messages.

Each test states the outcome the design promises: sent exactly once, or (when a
provider call may or may not have happened) marked "unknown" for a person, never
sent twice and never silently gone.
"""

import os
import signal
import time
import uuid
from datetime import time as clock
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from conversations import tasks
from conversations.models import Channel, Reminder
from conversations.services import delivery
from tests.conftest import Sms
from tests.conversations.test_celery_worker import (
    _purge,
    _wait_for,
    publishes,  # noqa: F401 - a fixture
    worker_env,
    worker_queue,  # noqa: F401 - a fixture
    worker_start,
    worker_stop,
)
from tests.factories import CampaignFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

PHONE = "+15125550123"


@pytest.fixture
def workers(worker_queue, tmp_path, outbox_dir):  # noqa: F811
    """Start workers on this test's queue (`workers.start(**env)`); all stopped at the end."""
    started = []

    class Workers:
        queue = worker_queue

        def start(self, **extra_env):
            env = worker_env(
                queue=worker_queue, tmp_path=tmp_path, outbox_dir=outbox_dir, **extra_env
            )
            worker = worker_start(queue=worker_queue, env=env, log_path=tmp_path / "worker.log")
            started.append(worker)
            return worker

    try:
        yield Workers()
    finally:
        for worker in started:
            worker_stop(worker)


@pytest.fixture
def campaign_awake():
    # No quiet hours, so the outcome does not depend on when the suite runs.
    return CampaignFactory(quiet_hours_start=clock(0, 0), quiet_hours_end=clock(0, 0))


def due_reminder(campaign, body):
    with transaction.atomic():
        return delivery.reminder_create(
            campaign=campaign,
            channel=Channel.SMS,
            to=PHONE,
            body=body,
            send_at=timezone.now(),
            idempotency_key=f"fault-{uuid.uuid4()}",
        )


def fake_sms(outbox_dir):
    path = outbox_dir / "sms-fake.log"
    if not path.exists():
        return []
    return [line.split("\t", 1)[1] for line in path.read_text().splitlines()]


def settled(reminder, *statuses):
    def check():
        reminder.refresh_from_db()
        return reminder.status in statuses

    return check


def tasks_done(worker, count):
    return lambda: worker.log().count(" succeeded in ") >= count


def test_a_task_delivered_twice_sends_once(workers, campaign_awake, monkeypatch, sent_sms):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    reminder = due_reminder(campaign_awake, "Meeting tonight at 7.")
    worker = workers.start()

    # Redis redelivers, beat overlaps with a publish, a person clicks twice: three messages.
    tasks.reminder_send.delay(reminder.pk)
    tasks.reminder_send.delay(reminder.pk)
    tasks.reminders_send.delay([reminder.pk, reminder.pk])

    _wait_for(tasks_done(worker, 3), what="three tasks to run", log=worker.log)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Reminder.Status.SENT, 1)
    assert sent_sms() == [Sms(to=PHONE, body="Meeting tonight at 7.")]


def test_worker_killed_during_the_provider_call_is_surfaced_not_resent(
    workers, campaign_awake, outbox_dir
):
    # The fake provider records the text, then hangs: it took the message and never answered.
    worker = workers.start(
        SMS_BACKEND="fake", SMS_FAKE_DELAY=300, REMINDERS_STALE_SENDING_SECONDS=1
    )
    reminder = due_reminder(campaign_awake, "Rent strike meeting, Thursday 7pm.")
    _wait_for(
        lambda: fake_sms(outbox_dir) == ["Rent strike meeting, Thursday 7pm."],
        what="the provider call",
        log=worker.log,
    )
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENDING and reminder.provider_called_at

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    worker = workers.start(SMS_BACKEND="fake", REMINDERS_STALE_SENDING_SECONDS=1)

    # Redis hands the unacknowledged task out again; then beat's dispatcher runs.
    tasks.reminder_send.delay(reminder.pk)
    tasks.reminders_dispatch_due.delay()
    _wait_for(settled(reminder, Reminder.Status.UNKNOWN), what="unknown", log=worker.log)
    # Later sweeps leave it for a person: it is never sent again by itself.
    tasks.reminders_dispatch_due.delay()
    after = due_reminder(campaign_awake, "A later reminder still goes out.")
    _wait_for(settled(after, Reminder.Status.SENT), what="the later reminder", log=worker.log)

    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNKNOWN
    assert "stopped while the provider was being called" in reminder.last_error
    assert fake_sms(outbox_dir) == [
        "Rent strike meeting, Thursday 7pm.",
        "A later reminder still goes out.",
    ]


def test_worker_killed_before_the_provider_call_is_sent_again(
    workers, campaign_awake, monkeypatch, outbox_dir
):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    reminder = due_reminder(campaign_awake, "Support group, Monday 6pm.")
    # What a worker killed after its claim and before the provider call leaves behind.
    Reminder.objects.filter(pk=reminder.pk).update(
        status=Reminder.Status.SENDING,
        claimed_at=timezone.now() - timedelta(minutes=5),
        claim="killed-worker",
        attempts=1,
    )
    worker = workers.start(SMS_BACKEND="fake", REMINDERS_STALE_CLAIM_SECONDS=1)

    tasks.reminders_dispatch_due.delay()

    _wait_for(settled(reminder, Reminder.Status.SENT), what="the resend", log=worker.log)
    assert reminder.attempts == 1
    assert fake_sms(outbox_dir) == ["Support group, Monday 6pm."]


def test_commit_then_crash_before_publishing_is_sent_by_the_sweep(
    workers,
    campaign_awake,
    monkeypatch,
    publishes,  # noqa: F811 - the fixture imported above
    sent_sms,
):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    worker = workers.start()
    reminder = due_reminder(campaign_awake, "Phone bank, Saturday 10am.")
    assert publishes == [], "the crash came before the publish"

    tasks.reminders_dispatch_due.delay()  # what beat does every minute

    _wait_for(settled(reminder, Reminder.Status.SENT), what="the sweep to send", log=worker.log)
    assert sent_sms() == [Sms(to=PHONE, body="Phone bank, Saturday 10am.")]


def test_messages_lost_in_a_redis_restart_are_queued_again(workers, campaign_awake, outbox_dir):
    # Two messages are in Redis when it restarts without persistence: one published on
    # commit, one by a dispatcher a few minutes ago. No worker has picked them up.
    fresh = due_reminder(campaign_awake, "Published on commit.")
    older = due_reminder(campaign_awake, "Queued by the dispatcher.")
    Reminder.objects.filter(pk=older.pk).update(
        queued_at=timezone.now() - delivery.REQUEUE_AFTER - timedelta(seconds=5)
    )
    _purge(workers.queue)  # the restart

    worker = workers.start(SMS_BACKEND="fake")
    tasks.reminders_dispatch_due.delay()

    for reminder in (fresh, older):
        _wait_for(settled(reminder, Reminder.Status.SENT), what="the requeue", log=worker.log)
    assert sorted(fake_sms(outbox_dir)) == ["Published on commit.", "Queued by the dispatcher."]


@pytest.fixture
def twilio():
    from tests.fake_providers import FakeTwilio

    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def twilio_env(twilio):
    return dict(
        SMS_BACKEND="twilio",
        TWILIO_API_URL=twilio.url,
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="secret",
        SMS_FROM_NUMBER="+15125550000",
        SMS_TIMEOUT=2,
    )


def test_a_text_twilio_took_then_answered_502_is_never_sent_again(workers, campaign_awake, twilio):
    twilio.mode = 502
    worker = workers.start(**twilio_env(twilio))
    reminder = due_reminder(campaign_awake, "Tenants' meeting, Thursday 7pm.")

    _wait_for(settled(reminder, Reminder.Status.UNKNOWN), what="unknown", log=worker.log)
    # Beat runs again and again; a redelivered task arrives: nobody sends it a second time.
    tasks.reminders_dispatch_due.delay()
    tasks.reminder_send.delay(reminder.pk)
    tasks.reminders_dispatch_due.delay()
    _wait_for(tasks_done(worker, 4), what="the tasks to run", log=worker.log)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Reminder.Status.UNKNOWN, 1)
    assert twilio.messages() == [(PHONE, "Tenants' meeting, Thursday 7pm.")]


def test_a_trickling_provider_is_cut_off_by_the_whole_call_deadline(
    workers, campaign_awake, twilio
):
    # One byte every half second: each read is quick, the whole answer would take a minute.
    twilio.mode, twilio.trickle_every = "trickle", 0.5
    worker = workers.start(**twilio_env(twilio))
    reminder = due_reminder(campaign_awake, "Phone bank, Saturday 10am.")

    _wait_for(lambda: len(twilio.requests) == 1, what="the provider call", log=worker.log)
    started = time.monotonic()
    _wait_for(settled(reminder, Reminder.Status.UNKNOWN), what="unknown", log=worker.log)
    assert time.monotonic() - started < 2 + 2, "SMS_TIMEOUT=2 bounds the whole call"
    assert "within 2 s" in reminder.last_error


def test_a_cancel_that_lands_while_the_worker_sends_a_batch_stops_the_rest(
    workers, campaign_awake, twilio, monkeypatch
):
    from django.db import connection

    from conversations.services import commitment_cancel
    from tests.factories import CommitmentFactory, ReminderFactory

    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    first, second = "+15125550111", "+15125550122"
    kept = CommitmentFactory(campaign=campaign_awake, phone=first)
    called_off = CommitmentFactory(campaign=campaign_awake, phone=second)
    rows = [
        ReminderFactory(
            campaign=campaign_awake,
            commitment=c,
            to=c.phone,
            body=f"Meeting reminder for {c.phone}",
            idempotency_key=f"commitment:{c.pk}:v1:day_before",
            step="day_before",
        )
        for c in (kept, called_off)
    ]

    def cancel_the_other_one():
        # The organizer cancels while the worker is in the middle of the batch.
        try:
            commitment_cancel(commitment=called_off)
        finally:
            connection.close()

    twilio.on_request = cancel_the_other_one
    worker = workers.start(**twilio_env(twilio))
    tasks.reminders_send.delay([r.pk for r in rows])

    for row in rows:
        _wait_for(
            settled(row, Reminder.Status.SENT, Reminder.Status.SUPPRESSED),
            what="the batch",
            log=worker.log,
        )
    assert [r.status for r in rows] == [Reminder.Status.SENT, Reminder.Status.SUPPRESSED]
    assert twilio.messages() == [(first, f"Meeting reminder for {first}")]


def test_two_workers_never_give_one_person_more_than_the_daily_cap(
    workers, campaign_awake, monkeypatch, outbox_dir
):
    # Eight messages to one number, from different commitments and links, all due at once
    # and sent by two workers side by side (each call takes a while, so they overlap).
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    rows = [due_reminder(campaign_awake, f"Message {n}") for n in range(8)]
    first = workers.start(SMS_BACKEND="fake", SMS_FAKE_DELAY=0.3, REMINDERS_PER_PERSON_PER_DAY=3)
    second = workers.start(SMS_BACKEND="fake", SMS_FAKE_DELAY=0.3, REMINDERS_PER_PERSON_PER_DAY=3)
    for row in rows:
        tasks.reminder_send.delay(row.pk)

    for row in rows:
        _wait_for(
            lambda row=row: (
                Reminder.objects.filter(
                    pk=row.pk,
                    status__in=[Reminder.Status.SENT, Reminder.Status.PENDING],
                    claim__gt="",
                ).exists()
                and not Reminder.objects.filter(pk=row.pk, status=Reminder.Status.SENDING).exists()
            ),
            what="every message settled",
            log=first.log,
        )
    assert len(fake_sms(outbox_dir)) == 3, second.log()
    statuses = sorted(
        Reminder.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    )
    assert statuses == ["pending"] * 5 + ["sent"] * 3
    held = Reminder.objects.held_by_daily_cap()
    assert held.count() == 5
    assert all(r.send_at > timezone.now() for r in held)
