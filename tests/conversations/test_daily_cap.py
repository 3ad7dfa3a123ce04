"""At most a few a day: one person (a phone number or an email, whatever its case) never gets
more than REMINDERS_PER_PERSON_PER_DAY messages in a day of theirs, across every commitment,
signup and link; more wait for their next morning, shown to organizers."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from conversations.models import DAY_CAP_HELD, Channel, Reminder, Step
from conversations.services import commitment_record, reminder_send, sms_inbound_handle
from conversations.services.delivery import per_person_per_day
from tests.factories import PersonFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOON = datetime(2026, 3, 7, 12, 0, tzinfo=CHICAGO)  # the day before the US clocks change
MARIA = "+15125550123"


def run_outbox():
    for pk in Reminder.objects.due().order_by("send_at", "pk").values_list("pk", flat=True):
        reminder_send(reminder_id=pk)


def commitments(campaign, count, *, when=None, channel=Channel.SMS, to=MARIA, person=None):
    person = person or PersonFactory(campaign=campaign, first_name="Maria")
    when = when or NOON + timedelta(days=20)
    contact = {"phone": to} if channel == Channel.SMS else {"email": to}
    return [
        commitment_record(
            campaign=campaign,
            kind="meeting",
            what=f"Meeting number {n}",
            person=person,
            when=when + timedelta(days=n),
            channel=channel,
            **contact,
        )
        for n in range(count)
    ]


def test_the_default_is_three_a_day(settings):
    from canvass import settings as project_settings

    del settings.REMINDERS_PER_PERSON_PER_DAY
    assert per_person_per_day() == 3
    assert project_settings.REMINDERS_PER_PERSON_PER_DAY == 3


def test_five_commitments_on_one_visit_text_three_today_and_two_next_morning(
    campaign, sent_sms, settings
):
    settings.REMINDERS_PER_PERSON_PER_DAY = 3
    with time_machine.travel(NOON, tick=False) as traveller:
        commitments(campaign, 5)
        run_outbox()
        assert len(sent_sms()) == 3
        held = list(Reminder.objects.held_by_daily_cap())
        assert len(held) == 2
        # Deferred to 8:00 the next day of theirs (the DST change is that night), not dropped.
        morning = datetime(2026, 3, 8, 8, 0, tzinfo=CHICAGO)
        assert {r.send_at for r in held} == {morning}
        assert all("at most 3 a day" in r.last_error for r in held)
        traveller.move_to(morning - timedelta(minutes=1))
        run_outbox()
        assert len(sent_sms()) == 3
        traveller.move_to(morning)
        run_outbox()
    assert len(sent_sms()) == 5
    assert not Reminder.objects.held_by_daily_cap().exists()


def test_the_cap_counts_an_email_address_whatever_its_case(campaign, outbox_dir, settings):
    settings.REMINDERS_PER_PERSON_PER_DAY = 2
    with time_machine.travel(NOON, tick=False):
        person = PersonFactory(campaign=campaign)
        for address in ("Maria@Example.org", "maria@example.org", "MARIA@EXAMPLE.ORG"):
            commitments(campaign, 1, channel=Channel.EMAIL, to=address, person=person)
        run_outbox()
    sent = Reminder.objects.filter(status=Reminder.Status.SENT, recipient_kind="person")
    assert sent.count() == 2
    assert Reminder.objects.held_by_daily_cap().count() == 1


def test_a_reminder_the_cap_would_push_past_its_event_is_left_out(campaign, sent_sms, settings):
    settings.REMINDERS_PER_PERSON_PER_DAY = 1
    with time_machine.travel(NOON, tick=False):
        commitments(campaign, 1)
        tonight = commitments(campaign, 1, when=NOON + timedelta(hours=7))[0]
        run_outbox()
    left_out = tonight.reminders.get(step=Step.CONFIRM)
    assert left_out.status == Reminder.Status.SUPPRESSED
    assert left_out.last_error.startswith("Left out by the daily cap")
    assert len(sent_sms()) == 1


def test_stop_and_help_are_always_answered_and_still_count(campaign, sent_sms, settings):
    settings.REMINDERS_PER_PERSON_PER_DAY = 1
    with time_machine.travel(NOON, tick=False):
        commitments(campaign, 1)
        run_outbox()
        sms_inbound_handle(provider_id="SM-help", from_number=MARIA, body="HELP")
        run_outbox()
        sms_inbound_handle(provider_id="SM-stop", from_number=MARIA, body="STOP")
        run_outbox()
    steps = [r.step for r in Reminder.objects.filter(status=Reminder.Status.SENT)]
    assert steps == [Step.CONFIRM, Step.REPLY_HELP, Step.REPLY_STOP]
    assert len(sent_sms()) == 3


def test_the_day_is_the_persons_own(campaign, sent_sms, settings):
    # 22:30 in Chicago is already tomorrow in London, where she lives: a fresh day there.
    settings.REMINDERS_PER_PERSON_PER_DAY = 1
    london = zoneinfo.ZoneInfo("Europe/London")
    person = PersonFactory(campaign=campaign, timezone="Europe/London")
    with time_machine.travel(datetime(2026, 3, 7, 23, 30, tzinfo=london), tick=False) as clock:
        commitments(campaign, 2, person=person)
        run_outbox()  # quiet hours in London: both wait for 8:00
        clock.move_to(datetime(2026, 3, 8, 8, 0, tzinfo=london))
        run_outbox()
        assert len(sent_sms()) == 1
        held = Reminder.objects.held_by_daily_cap().get()
        assert held.send_at == datetime(2026, 3, 9, 8, 0, tzinfo=london)


def test_held_messages_are_listed_for_organizers(client, campaign, organizer, settings):
    settings.REMINDERS_PER_PERSON_PER_DAY = 1
    with time_machine.travel(NOON, tick=False):
        commitments(campaign, 2)
        run_outbox()
        client.force_login(organizer)
        page = client.get(reverse("reminders_needing_a_person", args=[campaign.slug]))
    text = page.content.decode()
    assert "Held by the daily cap (1)" in text
    assert "Meeting number 1" in text and DAY_CAP_HELD in text


def test_rows_outside_any_commitment_count_too(campaign, sent_sms, settings):
    # An answer from the replies inbox, a shift message: every message to the person counts.
    settings.REMINDERS_PER_PERSON_PER_DAY = 2
    with time_machine.travel(NOON, tick=False):
        for n in range(3):
            ReminderFactory(campaign=campaign, to=MARIA, body=f"Message {n}", step="answer")
        run_outbox()
    assert [s.body for s in sent_sms()] == ["Message 0", "Message 1"]
