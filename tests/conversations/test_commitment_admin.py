"""Editing a commitment in the admin goes through the service: its plan follows."""

import zoneinfo
from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from conversations.models import Channel, Commitment, Reminder, Step
from conversations.services import commitment_record
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)

frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def form_data(commitment, **changes):
    local = commitment.when.astimezone(CHICAGO) if commitment.when else None
    data = {
        "what": commitment.what,
        "when_0": local.strftime("%Y-%m-%d") if local else "",
        "when_1": local.strftime("%H:%M:%S") if local else "",
        "owner": commitment.owner_id or "",
        "channel": commitment.channel,
        "phone": commitment.phone,
        "email": commitment.email,
        "reminders-TOTAL_FORMS": "0",
        "reminders-INITIAL_FORMS": "0",
        "reminders-MIN_NUM_FORMS": "0",
        "reminders-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@frozen
def test_a_new_date_in_the_admin_rewrites_the_plan(admin_client, campaign, settings):
    settings.TIME_ZONE = "America/Chicago"
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The tenants' meeting",
        person=PersonFactory(campaign=campaign, first_name="Maria"),
        when=MEETING,
        channel=Channel.SMS,
        phone="+15125550123",
    )
    Reminder.objects.filter(commitment=commitment, step=Step.CONFIRM).update(
        status=Reminder.Status.SENT
    )
    url = reverse("admin:conversations_commitment_change", args=[commitment.pk])

    page = admin_client.post(url, form_data(commitment, when_0="2024-10-24", when_1="19:00:00"))

    assert page.status_code == 302, page.content.decode()[:2000]
    commitment.refresh_from_db()
    assert commitment.when == datetime(2024, 10, 24, 19, 0, tzinfo=CHICAGO)
    assert commitment.plan_version == 2
    pending = commitment.reminders.filter(status=Reminder.Status.PENDING)
    assert pending.exists()
    assert all("Oct 24" in r.body for r in pending if r.recipient_kind == "person")
    old = commitment.reminders.filter(idempotency_key__contains=":v1:").exclude(step=Step.CONFIRM)
    assert set(old.values_list("status", flat=True)) == {Reminder.Status.CANCELLED}


@frozen
def test_a_bad_phone_in_the_admin_is_refused_with_nothing_changed(admin_client, campaign):
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The tenants' meeting",
        when=MEETING,
        channel=Channel.SMS,
        phone="+15125550123",
    )
    url = reverse("admin:conversations_commitment_change", args=[commitment.pk])
    page = admin_client.post(url, form_data(commitment, phone="12"))
    assert page.status_code == 200
    assert "is not a" in page.content.decode()
    assert Commitment.objects.get(pk=commitment.pk).plan_version == 1


@frozen
def test_the_status_is_not_edited_in_the_admin(admin_client, campaign):
    commitment = commitment_record(
        campaign=campaign, kind="meeting", what="Meeting", when=MEETING, channel=Channel.NONE
    )
    url = reverse("admin:conversations_commitment_change", args=[commitment.pk])
    admin_client.post(url, form_data(commitment, status="cancelled"))
    assert Commitment.objects.get(pk=commitment.pk).status == Commitment.Status.OPEN


@frozen
def test_a_date_past_2099_in_the_admin_is_refused_with_nothing_changed(admin_client, campaign):
    commitment = commitment_record(
        campaign=campaign, kind="meeting", what="The tenants' meeting", when=MEETING
    )
    url = reverse("admin:conversations_commitment_change", args=[commitment.pk])
    page = admin_client.post(url, form_data(commitment, when_0="9999-12-31", when_1="23:30:00"))
    assert page.status_code == 200
    assert "Give a date from 2000 to 2099" in page.content.decode()
    commitment.refresh_from_db()
    assert (commitment.when, commitment.plan_version) == (MEETING, 1)
