"""The outbox's delivery rules without a worker: dispatching, crashes, resolving, quiet hours."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from canvass.celery import app
from canvass.models import AuditEvent, Membership
from conversations import tasks
from conversations.models import Channel, Commitment, OptOut, Reminder, Step
from conversations.services import (
    delivery,
    needs_person,
    reminder_send,
    reminders_dispatch,
    reminders_recover_stale,
)
from tests.conftest import Sms
from tests.factories import (
    CampaignFactory,
    CommitmentFactory,
    MembershipFactory,
    ReminderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
AUSTIN_PHONE = "+15125550123"  # America/Chicago
NEW_YORK_PHONE = "+12125550143"  # America/New_York
HONOLULU_PHONE = "+18085550111"  # Pacific/Honolulu

frozen = time_machine.travel(NOON, tick=False)


def reload(reminder):
    reminder.refresh_from_db()
    return reminder


@pytest.fixture
def eager(settings):
    """Run tasks in this process (the real worker is tested in test_worker_faults.py)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- The dispatcher ----------------------------------------------------------------


@frozen
def test_dispatch_queues_each_due_row_once_until_its_message_could_be_lost(campaign):
    due = ReminderFactory(campaign=campaign, send_at=NOON - timedelta(minutes=5))
    ReminderFactory(campaign=campaign, send_at=NOON + timedelta(minutes=5))

    assert reminders_dispatch() == [due.pk]
    assert reload(due).queued_at == NOON
    # Beat a minute later: already queued, not queued again.
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        assert reminders_dispatch() == []
    # Still pending long after: its message was lost (Redis restarted): queued again.
    later = NOON + delivery.REQUEUE_AFTER + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert reminders_dispatch() == [due.pk]


@frozen
def test_commit_then_crash_before_publishing_is_sent_by_the_sweep(
    campaign, monkeypatch, django_capture_on_commit_callbacks, eager, sent_sms
):
    # The web process dies between its commit and the publish: nothing reaches Redis.
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *args, **kwargs: None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reminder = delivery.reminder_create(
            campaign=campaign,
            channel=Channel.SMS,
            to=AUSTIN_PHONE,
            body="See you tonight.",
            send_at=NOON,
            idempotency_key="lost-publish",
        )
    assert callbacks == []
    assert sent_sms() == []

    assert tasks.reminders_dispatch_due.delay().get() == 1

    assert reload(reminder).status == Reminder.Status.SENT
    assert sent_sms() == [Sms(to=AUSTIN_PHONE, body="See you tonight.")]


@frozen
def test_dispatching_more_than_a_batch_sends_them_all_once(campaign, monkeypatch, eager, sent_sms):
    monkeypatch.setattr(delivery, "DISPATCH_BATCH", 3)
    rows = [ReminderFactory(campaign=campaign, body=f"message {n}") for n in range(8)]

    assert tasks.reminders_dispatch_due.delay().get() == 8
    assert tasks.reminders_dispatch_due.delay().get() == 0

    assert sorted(sms.body for sms in sent_sms()) == sorted(r.body for r in rows)


@frozen
def test_one_reminder_failing_does_not_hold_back_the_rest_of_its_batch(campaign, monkeypatch):
    first, second = ReminderFactory(campaign=campaign), ReminderFactory(campaign=campaign)
    real = delivery._send_claimed

    def flaky(reminder, **kwargs):
        if reminder.pk == first.pk:
            raise RuntimeError("database hiccup")
        return real(reminder, **kwargs)

    monkeypatch.setattr(delivery, "_send_claimed", flaky)
    assert tasks.reminders_send.run([first.pk, second.pk]) == 1
    assert reload(second).status == Reminder.Status.SENT
    # Claimed, never handed to the provider: the sweep gives it back to the dispatcher.
    assert reload(first).status == Reminder.Status.SENDING
    with time_machine.travel(NOON + delivery.STALE_CLAIM_AFTER + timedelta(seconds=1)):
        assert reminders_recover_stale() == (1, 0)
    assert reload(first).status == Reminder.Status.PENDING


@frozen
def test_a_stop_that_arrives_while_a_batch_is_being_sent_still_wins(
    campaign, monkeypatch, sent_sms
):
    first = ReminderFactory(campaign=campaign, to="+15125550111")
    second = ReminderFactory(campaign=campaign, to="+15125550122")
    real = delivery._send_claimed

    def stop_arrives_after_the_first(reminder, **kwargs):
        outcome = real(reminder, **kwargs)
        if reminder.pk == first.pk:
            OptOut.objects.create(address=second.to, keyword="STOP")
        return outcome

    monkeypatch.setattr(delivery, "_send_claimed", stop_arrives_after_the_first)
    assert delivery.reminders_send(reminder_ids=[first.pk, second.pk]) == {
        first.pk: Reminder.Status.SENT,
        second.pk: Reminder.Status.SUPPRESSED,
    }
    assert [sms.to for sms in sent_sms()] == [first.to]


# --- A worker that dies --------------------------------------------------------------


@frozen
def test_a_row_claimed_but_never_handed_to_the_provider_is_sent_again(campaign, sent_sms):
    # What a worker killed between its claim and the provider call leaves behind.
    stuck = ReminderFactory(
        campaign=campaign,
        status=Reminder.Status.SENDING,
        claimed_at=NOON - delivery.STALE_CLAIM_AFTER - timedelta(seconds=1),
        claim="dead-worker",
        attempts=1,
    )
    fresh = ReminderFactory(
        campaign=campaign, status=Reminder.Status.SENDING, claimed_at=NOON, claim="busy-worker"
    )

    assert reminders_recover_stale() == (1, 0)

    assert reload(stuck).status == Reminder.Status.PENDING
    assert reload(stuck).attempts == 0, "no provider call, no attempt"
    assert reload(fresh).status == Reminder.Status.SENDING, "a send in progress is left alone"
    assert reminder_send(reminder_id=stuck.pk) == Reminder.Status.SENT
    assert len(sent_sms()) == 1


@frozen
def test_a_row_whose_provider_call_never_returned_is_unknown_never_resent(campaign, sent_sms):
    stuck = ReminderFactory(
        campaign=campaign,
        status=Reminder.Status.SENDING,
        claimed_at=NOON - delivery.STALE_SENDING_AFTER - timedelta(minutes=1),
        provider_called_at=NOON - delivery.STALE_SENDING_AFTER - timedelta(minutes=1),
        attempts=1,
    )
    assert reminders_recover_stale() == (0, 1)
    assert reload(stuck).status == Reminder.Status.UNKNOWN
    assert stuck.pk not in reminders_dispatch()
    assert reminder_send(reminder_id=stuck.pk) is None
    assert sent_sms() == []


@frozen
def test_a_worker_that_lost_its_claim_never_calls_the_provider(campaign, monkeypatch, sent_sms):
    """The slow worker's claim is taken back by the sweep and another worker sends the row;
    when the slow one wakes up, its stamp finds someone else's claim and it stops."""
    reminder = ReminderFactory(campaign=campaign)
    real_reason = delivery._suppression_reason
    woke_up = []

    def stall_then_wake(row, now, **kwargs):
        if not woke_up:
            woke_up.append(True)
            later = NOON + delivery.STALE_CLAIM_AFTER + timedelta(seconds=1)
            with time_machine.travel(later, tick=False):
                assert reminders_recover_stale() == (1, 0)
                assert reminder_send(reminder_id=row.pk) == Reminder.Status.SENT
        return real_reason(row, now, **kwargs)

    monkeypatch.setattr(delivery, "_suppression_reason", stall_then_wake)
    assert reminder_send(reminder_id=reminder.pk) is None
    assert reload(reminder).status == Reminder.Status.SENT
    assert len(sent_sms()) == 1


@frozen
def test_a_retry_that_would_land_after_the_event_began_is_suppressed(campaign, sent_sms):
    meeting = CommitmentFactory(campaign=campaign, when=NOON + timedelta(minutes=30))
    reminder = ReminderFactory(campaign=campaign, commitment=meeting, send_at=NOON)
    Reminder.objects.filter(pk=reminder.pk).update(send_at=NOON - timedelta(minutes=10))
    with time_machine.travel(meeting.when + timedelta(minutes=1), tick=False):
        assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert "begun" in reload(reminder).last_error
    assert sent_sms() == []


# --- A person resolves what the machine cannot -------------------------------------------


def admin_user_of_reminders(user):
    """Staff with the admin's permissions on reminders (what an organizer is given)."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="conversations",
            codename__in=["view_reminder", "change_reminder"],
        )
    )
    return user


@pytest.fixture
def staff_organizer(organizer):
    # The admin lets in superusers only (canvass/admin_site.py).
    organizer.is_superuser = True
    return admin_user_of_reminders(organizer)


@frozen
def test_a_superuser_organizer_resolves_unknown_reminders_from_the_admin(
    client, campaign, staff_organizer, sent_sms
):
    arrived = ReminderFactory(campaign=campaign, status=Reminder.Status.UNKNOWN, attempts=1)
    lost = ReminderFactory(campaign=campaign, status=Reminder.Status.UNKNOWN, attempts=1)
    ReminderFactory(campaign=campaign, status=Reminder.Status.SENT)
    client.force_login(staff_organizer)
    url = reverse("admin:conversations_reminder_changelist")

    listed = client.get(url, {"needs_person": "yes"})
    assert listed.status_code == 200
    assert set(listed.context["cl"].queryset) == {arrived, lost}

    client.post(url, {"action": "mark_sent", "_selected_action": [arrived.pk]})
    client.post(url, {"action": "send_again", "_selected_action": [lost.pk]})

    assert reload(arrived).status == Reminder.Status.SENT
    assert reload(lost).status == Reminder.Status.PENDING
    assert reminder_send(reminder_id=lost.pk) == Reminder.Status.SENT
    assert [sms.body for sms in sent_sms()] == [lost.body]
    assert AuditEvent.objects.filter(actor=staff_organizer).count() == 2


@frozen
def test_only_an_organizer_of_that_campaign_may_resolve(client, campaign):
    other = CampaignFactory()
    lead = admin_user_of_reminders(UserFactory(username="lee"))
    MembershipFactory(user=lead, campaign=other, role=Membership.Role.ORGANIZER)
    MembershipFactory(user=lead, campaign=campaign, role=Membership.Role.FIELD_LEAD)
    unknown = ReminderFactory(campaign=campaign, status=Reminder.Status.UNKNOWN)
    client.force_login(lead)
    url = reverse("admin:conversations_reminder_changelist")
    client.post(url, {"action": "send_again", "_selected_action": [unknown.pk]})
    assert reload(unknown).status == Reminder.Status.UNKNOWN


def test_resolving_a_reminder_that_is_not_waiting_is_refused(campaign, organizer):
    sent = ReminderFactory(campaign=campaign, status=Reminder.Status.SENT)
    with pytest.raises(ValidationError, match="not waiting for a person"):
        needs_person.reminder_resolve(reminder=sent, outcome="resend", by=organizer)
    with pytest.raises(ValidationError, match="sent or resend"):
        needs_person.reminder_resolve(reminder=sent, outcome="maybe", by=organizer)
    assert reload(sent).status == Reminder.Status.SENT
    assert not AuditEvent.objects.exists()


# --- Quiet hours across time zones (frozen time) ----------------------------------------


@pytest.mark.parametrize(
    "phone, chicago_time, outcome, resume_local",
    [
        # 20:30 in Chicago is 21:30 in New York: too late there, fine in Chicago.
        (NEW_YORK_PHONE, (20, 30), Reminder.Status.PENDING, ("America/New_York", 8)),
        (AUSTIN_PHONE, (20, 30), Reminder.Status.SENT, None),
        # 07:30 in Chicago is 02:30 in Honolulu.
        (HONOLULU_PHONE, (7, 30), Reminder.Status.PENDING, ("Pacific/Honolulu", 8)),
        # 13:00 in Chicago is 08:00 in Honolulu: the quiet hours have just ended.
        (HONOLULU_PHONE, (13, 0), Reminder.Status.SENT, None),
    ],
)
def test_quiet_hours_are_local_to_the_number(
    campaign, sent_sms, phone, chicago_time, outcome, resume_local
):
    moment = NOON.replace(hour=chicago_time[0], minute=chicago_time[1])
    with time_machine.travel(moment, tick=False):
        reminder = ReminderFactory(campaign=campaign, to=phone, send_at=moment)
        assert reminder_send(reminder_id=reminder.pk) == outcome
    if resume_local:
        zone, hour = resume_local
        resume = reload(reminder).send_at.astimezone(zoneinfo.ZoneInfo(zone))
        assert (resume.hour, resume.minute) == (hour, 0)
        assert resume > moment
        assert sent_sms() == []
    else:
        assert len(sent_sms()) == 1


def test_an_owners_check_after_the_event_is_deferred_not_suppressed(campaign, organizer):
    late = NOON.replace(hour=23)
    meeting = CommitmentFactory(campaign=campaign, when=NOON.replace(hour=19))
    with time_machine.travel(late, tick=False):
        check = ReminderFactory(
            campaign=campaign,
            commitment=meeting,
            channel=Channel.EMAIL,
            to=organizer.email,
            recipient_kind=Reminder.Recipient.OWNER,
            step=Step.OWNER_AFTER,
            send_at=late,
        )
        assert reminder_send(reminder_id=check.pk) == Reminder.Status.PENDING
    assert reload(check).send_at == datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)


def test_replies_go_at_once_even_in_quiet_hours(campaign, sent_sms):
    with time_machine.travel(NOON.replace(hour=23, minute=45), tick=False):
        reply = ReminderFactory(campaign=campaign, step=Step.REPLY_HELP)
        assert reminder_send(reminder_id=reply.pk) == Reminder.Status.SENT
    assert len(sent_sms()) == 1


@frozen
def test_reminders_about_a_kept_commitment_are_not_sent(campaign, sent_sms):
    kept = CommitmentFactory(campaign=campaign, status=Commitment.Status.KEPT)
    reminder = ReminderFactory(campaign=campaign, commitment=kept)
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.SUPPRESSED
    assert reload(reminder).last_error == "Commitment kept."
    assert sent_sms() == []


class SlowMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise TimeoutError("timed out")


@frozen
def test_an_email_that_timed_out_is_unknown_not_retried(campaign, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.SlowMailServer"
    reminder = ReminderFactory(campaign=campaign, channel=Channel.EMAIL, to="maria@example.org")
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.UNKNOWN
    assert reload(reminder).last_error == "timed out"
    assert reminder.pk not in reminders_dispatch()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_split_the_due_rows_instead_of_queuing_each_twice(campaign):
    import threading

    from django.db import connection, transaction

    rows = [ReminderFactory(campaign=campaign, send_at=NOON) for _ in range(4)]
    held, release, seen = threading.Event(), threading.Event(), {}

    def first_dispatcher():
        # A dispatcher that has locked the two oldest rows and not yet committed.
        try:
            with transaction.atomic():
                locked = list(
                    Reminder.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).select_for_update()
                )
                seen["first"] = {r.pk for r in locked}
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_dispatcher)
    thread.start()
    try:
        assert held.wait(10)
        with time_machine.travel(NOON, tick=False):
            second = set(reminders_dispatch())
    finally:
        release.set()
        thread.join(10)
    assert second == {rows[2].pk, rows[3].pk}
    assert not second & seen["first"]


@frozen
def test_send_again_on_a_row_of_an_older_plan_is_refused_and_offers_the_current_plan(
    client, campaign, staff_organizer, sent_sms
):
    from conversations.services import commitment_change, commitment_record

    meeting = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Tenants' meeting",
        when=NOON + timedelta(days=10),
        channel=Channel.SMS,
        phone=AUSTIN_PHONE,
    )
    old = meeting.reminders.get(step=Step.CONFIRM)
    Reminder.objects.filter(pk=old.pk).update(status=Reminder.Status.UNKNOWN)
    meeting = commitment_change(commitment=meeting, when=NOON + timedelta(days=12))

    with pytest.raises(ValidationError, match="older plan") as refused:
        needs_person.reminder_resolve(reminder=reload(old), outcome="resend", by=staff_organizer)
    assert "The current plan: " in refused.value.messages[0]
    assert reload(old).status == Reminder.Status.UNKNOWN

    # The admin's "Send again now" says why, and names the current plan.
    client.force_login(staff_organizer)
    url = reverse("admin:conversations_reminder_changelist")
    page = client.post(url, {"action": "send_again", "_selected_action": [old.pk]}, follow=True)
    shown = [str(m) for m in page.context["messages"]]
    assert any("older plan" in m and "The current plan" in m for m in shown), shown
    assert reload(old).status == Reminder.Status.UNKNOWN
    assert sent_sms() == []
    # "It did arrive" is still allowed: it only records what happened.
    needs_person.reminder_resolve(reminder=reload(old), outcome="sent", by=staff_organizer)
    assert reload(old).status == Reminder.Status.SENT


def _superseded_confirmation(campaign):
    """A meeting whose confirmation's outcome is unknown, then moved by two days: the
    "changed" text of the new plan went out, its day-before one is ahead."""
    from conversations.services import commitment_change, commitment_record

    meeting = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Tenants' meeting",
        when=NOON + timedelta(days=10),
        channel=Channel.SMS,
        phone=AUSTIN_PHONE,
    )
    old = meeting.reminders.get(step=Step.CONFIRM)
    Reminder.objects.filter(pk=old.pk).update(status=Reminder.Status.UNKNOWN)
    meeting = commitment_change(commitment=meeting, when=NOON + timedelta(days=12))
    changed = meeting.reminders.get(step=Step.CHANGED)
    assert reminder_send(reminder_id=changed.pk) == Reminder.Status.SENT
    return meeting, reload(old)


def test_the_page_sends_the_current_plans_next_message_instead_in_one_tap(
    client, campaign, organizer, sent_sms
):
    with time_machine.travel(NOON, tick=False):
        meeting, old = _superseded_confirmation(campaign)
    day_before = meeting.reminders.get(step=Step.DAY_BEFORE, status=Reminder.Status.PENDING)
    url = reverse("reminders_needing_a_person", args=[campaign.slug])
    client.force_login(organizer)
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        page = client.get(url).content.decode()
        assert "older plan" in page
        assert "Send the current plan’s “The day before, 11:00” now instead" in page.replace(
            "&#x27;", "’"
        ).replace("'", "’")
        done = client.post(
            reverse("reminder_current_instead", args=[campaign.slug, old.pk]), follow=True
        )
        shown = [str(m) for m in done.context["messages"]]
        assert any("The day before, 11:00" in m and "queued" in m for m in shown), shown
        assert reminder_send(reminder_id=day_before.pk) == Reminder.Status.SENT

    texts = sent_sms()
    assert len(texts) == 2, "the changed notice, then the day-before one: never the old date"
    assert "Sunday Oct 20" in texts[-1].body
    assert reload(old).status == Reminder.Status.REPLACED
    assert "Olivia" in old.last_error and "instead" in old.last_error
    assert AuditEvent.objects.filter(action="reminder.resolve.current_instead").count() == 1
    # It no longer waits for a person, and still counts: they may have had it.
    assert old.pk not in Reminder.objects.needs_a_person().values_list("pk", flat=True)
    assert delivery.person_messages_count(meeting) == 3


def test_the_current_plans_message_sent_instead_keeps_quiet_hours_and_opt_outs(
    campaign, organizer, sent_sms
):
    with time_machine.travel(NOON, tick=False):
        meeting, old = _superseded_confirmation(campaign)
    night = datetime(2024, 10, 9, 22, 30, tzinfo=CHICAGO)
    with time_machine.travel(night, tick=False):
        upcoming = needs_person.reminder_send_current_instead(reminder=old, by=organizer)
        assert upcoming.step == Step.DAY_BEFORE and upcoming.send_at == night
        assert reminder_send(reminder_id=upcoming.pk) == Reminder.Status.PENDING
    assert reload(upcoming).send_at == datetime(2024, 10, 10, 8, 0, tzinfo=CHICAGO)
    OptOut.objects.create(address=AUSTIN_PHONE)
    with time_machine.travel(datetime(2024, 10, 10, 8, 1, tzinfo=CHICAGO), tick=False):
        assert reminder_send(reminder_id=upcoming.pk) == Reminder.Status.SUPPRESSED
    assert len(sent_sms()) == 1, "only the changed notice"


@frozen
def test_nothing_is_sent_instead_for_a_cancelled_commitment_or_a_current_row(
    client, campaign, organizer, sent_sms
):
    meeting, old = _superseded_confirmation(campaign)
    current = meeting.reminders.get(step=Step.DAY_BEFORE, status=Reminder.Status.PENDING)
    Reminder.objects.filter(pk=current.pk).update(status=Reminder.Status.FAILED)
    with pytest.raises(ValidationError, match="current plan"):
        needs_person.reminder_send_current_instead(reminder=reload(current), by=organizer)
    Reminder.objects.filter(pk=current.pk).update(status=Reminder.Status.PENDING)
    from conversations.services import commitment_cancel

    commitment_cancel(commitment=meeting)
    client.force_login(organizer)
    page = client.get(reverse("reminders_needing_a_person", args=[campaign.slug]))
    assert "now instead" not in page.content.decode()
    done = client.post(
        reverse("reminder_current_instead", args=[campaign.slug, old.pk]), follow=True
    )
    assert any("cancelled" in str(m) for m in done.context["messages"])
    assert reload(old).status == Reminder.Status.UNKNOWN
    assert len(sent_sms()) == 1


@frozen
def test_send_again_for_a_cancelled_commitment_is_refused(campaign, organizer):
    cancelled = CommitmentFactory(campaign=campaign, status=Commitment.Status.CANCELLED)
    row = ReminderFactory(campaign=campaign, commitment=cancelled, status=Reminder.Status.FAILED)
    with pytest.raises(ValidationError, match="cancelled"):
        needs_person.reminder_resolve(reminder=row, outcome="resend", by=organizer)


@frozen
def test_a_broker_that_is_down_never_fails_a_saved_change(
    client, campaign, organizer, monkeypatch, django_capture_on_commit_callbacks, eager, sent_sms
):
    from kombu.exceptions import OperationalError

    from conversations.services import commitment_record

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    meeting = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Tenants' meeting",
        when=NOON + timedelta(days=10),
        owner=organizer,
        channel=Channel.SMS,
        phone=AUSTIN_PHONE,
    )
    Reminder.objects.filter(commitment=meeting, step=Step.CONFIRM).update(
        status=Reminder.Status.SENT
    )
    monkeypatch.setattr(tasks.reminder_send, "delay", broker_down)

    # The organizer reschedules: saved, and the "changed" text is due at once.
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("followup_mark", args=[meeting.pk]),
            {"outcome": "rescheduled", "new_when": "2024-10-20T19:00"},
        )
    assert page.status_code == 302, "the page does not fail for something stored"
    meeting.refresh_from_db()
    assert meeting.when == datetime(2024, 10, 20, 19, 0, tzinfo=CHICAGO)
    changed = meeting.reminders.get(step=Step.CHANGED, status=Reminder.Status.PENDING)
    assert sent_sms() == []

    # The broker is back: the every-minute sweep sends what the failed publish did not.
    monkeypatch.undo()
    assert tasks.reminders_dispatch_due.delay().get() >= 1
    assert reload(changed).status == Reminder.Status.SENT
