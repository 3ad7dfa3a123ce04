"""Every message to a follow-up owner goes out in the owner's zone, not the campaign's."""

import zoneinfo
from datetime import datetime

import pytest
import time_machine

from conversations.models import Channel, Reminder, Step
from conversations.services import commitment_record, reminder_send
from tests.factories import UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
HONOLULU = zoneinfo.ZoneInfo("Pacific/Honolulu")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)


@pytest.fixture
def owner_in_honolulu(campaign):
    owner = UserFactory(username="kai", email="kai@example.org")
    VolunteerFactory(campaign=campaign, user=owner, timezone="Pacific/Honolulu")
    return owner


@time_machine.travel(NOW, tick=False)
def test_an_owners_reminders_are_at_nine_in_their_own_zone(campaign, owner_in_honolulu):
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Tenants' meeting",
        when=MEETING,
        owner=owner_in_honolulu,
        channel=Channel.NONE,
    )
    rows = commitment.reminders.filter(recipient_kind=Reminder.Recipient.OWNER)
    assert {r.step for r in rows} == {Step.OWNER_BEFORE, Step.OWNER_AFTER}
    for row in rows:
        local = row.send_at.astimezone(HONOLULU)
        assert (local.hour, local.minute) == (9, 0), row.step
        assert row.recipient_timezone == "Pacific/Honolulu"


def test_an_owners_email_waits_for_their_morning(campaign, owner_in_honolulu, mailoutbox):
    with time_machine.travel(NOW, tick=False):
        commitment = commitment_record(
            campaign=campaign,
            kind="meeting",
            what="Tenants' meeting",
            when=MEETING,
            owner=owner_in_honolulu,
            channel=Channel.NONE,
        )
    before = commitment.reminders.get(step=Step.OWNER_BEFORE)
    # 10:00 in Chicago is 05:00 in Honolulu: not yet.
    with time_machine.travel(datetime(2024, 10, 16, 10, 0, tzinfo=CHICAGO), tick=False):
        assert reminder_send(reminder_id=before.pk) is None
    with time_machine.travel(before.send_at, tick=False):
        assert reminder_send(reminder_id=before.pk) == Reminder.Status.SENT
    assert before.send_at.astimezone(HONOLULU).hour == 9
    assert len(mailoutbox) == 1
