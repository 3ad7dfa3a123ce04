"""Replies a person reads: the campaign's replies inbox, the owner's email, and the page of
reminders that need a person."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from conversations.models import Channel, InboundSms, OptOut, Reminder, Step
from conversations.services import (
    commitment_change,
    commitment_record,
    reminder_send,
    sms_inbound_handle,
)
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)
MARIA = "+15125550123"

frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture(autouse=True)
def _frozen():
    # Fixtures too (the confirmation sent at the door) happen at NOW.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def meeting(campaign, organizer):
    organizer.email = "olivia@example.org"
    organizer.save()
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The tenants' meeting",
        person=PersonFactory(campaign=campaign, first_name="Maria", last_name="Reyes"),
        when=MEETING,
        owner=organizer,
        channel=Channel.SMS,
        phone=MARIA,
    )
    reminder_send(reminder_id=commitment.reminders.get(step=Step.CONFIRM).pk)
    return commitment


def inbox(client, campaign):
    return client.get(reverse("replies_inbox", args=[campaign.slug]))


@frozen
def test_a_reply_waits_in_the_inbox_and_its_owner_is_told(
    client, campaign, organizer, meeting, mailoutbox
):
    reply = sms_inbound_handle(provider_id="SM1", from_number=MARIA, body="Can I bring my kids?")
    assert (reply.handled_as, reply.commitment) == (InboundSms.Handling.OTHER, meeting)

    told = Reminder.objects.get(to="olivia@example.org", step="owner_reply")
    assert reminder_send(reminder_id=told.pk) == Reminder.Status.SENT
    assert "Maria Reyes replied" in mailoutbox[-1].subject
    assert "Can I bring my kids?" in mailoutbox[-1].body
    assert reverse("replies_inbox", args=[campaign.slug]) in mailoutbox[-1].body

    client.force_login(organizer)
    page = inbox(client, campaign)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Can I bring my kids?" in text
    assert "Maria Reyes" in text and "The tenants&#x27; meeting" in text


def test_an_answer_goes_through_the_outbox_within_quiet_hours(
    client, campaign, organizer, meeting, sent_sms
):
    night = NOW.replace(hour=22, minute=15)
    with time_machine.travel(night, tick=False):
        reply = sms_inbound_handle(provider_id="SM2", from_number=MARIA, body="Is there parking?")
        client.force_login(organizer)
        url = reverse("reply_answer", args=[campaign.slug, reply.pk])
        page = client.post(url, {"body": "Yes, behind the library."}, follow=True)
        assert "queued" in page.content.decode()
        answer = Reminder.objects.get(step="answer")
        assert reminder_send(reminder_id=answer.pk) == Reminder.Status.PENDING
    answer.refresh_from_db()
    assert answer.send_at == datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)
    with time_machine.travel(answer.send_at, tick=False):
        assert reminder_send(reminder_id=answer.pk) == Reminder.Status.SENT
    assert sent_sms()[-1].body == "Yes, behind the library."
    reply.refresh_from_db()
    assert reply.handled_by == organizer and reply.handled_at is not None
    with time_machine.travel(answer.send_at, tick=False):
        assert "No unread replies." in inbox(client, campaign).content.decode()


@frozen
def test_mark_handled_and_bad_answers(client, campaign, organizer, meeting):
    reply = sms_inbound_handle(provider_id="SM3", from_number=MARIA, body="ok thanks")
    client.force_login(organizer)
    url = reverse("reply_answer", args=[campaign.slug, reply.pk])
    page = client.post(url, {"body": "   "}, follow=True)
    assert "Nothing was sent" in page.content.decode()
    page = client.post(url, {"body": "x" * 481}, follow=True)
    assert "Nothing was sent" in page.content.decode()
    OptOut.objects.create(address=MARIA)
    page = client.post(url, {"body": "Hello"}, follow=True)
    assert "has opted out" in page.content.decode()
    assert not Reminder.objects.filter(step="answer").exists()

    client.post(reverse("reply_handled", args=[campaign.slug, reply.pk]))
    reply.refresh_from_db()
    assert reply.handled_by == organizer


@frozen
def test_only_the_campaigns_organizers_see_its_replies(
    client, campaign, outsider, field_lead, meeting
):
    reply = sms_inbound_handle(provider_id="SM4", from_number=MARIA, body="who is this")
    client.force_login(outsider)
    assert inbox(client, campaign).status_code == 404
    handled = reverse("reply_handled", args=[campaign.slug, reply.pk])
    assert client.post(handled).status_code == 404
    client.force_login(field_lead)
    assert inbox(client, campaign).status_code == 403
    reply.refresh_from_db()
    assert reply.handled_at is None


@frozen
def test_the_needs_a_person_page_settles_rows_and_explains_superseded_ones(
    client, campaign, organizer, meeting
):
    lost = meeting.reminders.get(step=Step.CONFIRM)
    Reminder.objects.filter(pk=lost.pk).update(status=Reminder.Status.UNKNOWN)
    moved = commitment_change(commitment=meeting, when=MEETING + timedelta(days=2))
    client.force_login(organizer)
    url = reverse("reminders_needing_a_person", args=[campaign.slug])

    page = client.get(url).content.decode()
    assert "older plan" in page and "The current plan" in page
    assert 'value="resend"' not in page, "no resend for a superseded row"

    settle = reverse("reminder_settle", args=[campaign.slug, lost.pk])
    page = client.post(settle, {"outcome": "resend"}, follow=True).content.decode()
    assert "cannot be sent again" in page
    client.post(settle, {"outcome": "sent"})
    lost.refresh_from_db()
    assert lost.status == Reminder.Status.SENT
    assert moved.plan_version == 2


def test_a_stranger_cannot_settle_another_campaigns_reminder(client, campaign, meeting):
    other = UserFactory(username="mallory")
    client.force_login(other)
    row = meeting.reminders.first()
    assert client.post(reverse("reminder_settle", args=[campaign.slug, row.pk])).status_code == 404
