"""Quiet hours for numbers with several zones: inside 8:00–21:00 wherever the person may be."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine

from canvass.phones import phone_timezones
from conversations.models import Reminder
from conversations.services import reminder_send
from tests.factories import CommitmentFactory, HouseholdFactory, PersonFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
ALASKA = "+19075550100"  # America/Anchorage or America/Adak
IDAHO = "+12085550100"  # America/Boise or America/Los_Angeles
UK_MOBILE = "+447911123456"  # London and the Crown dependencies
# The 2026 daylight-saving changes (US and UK) and an ordinary day between them.
DAYS = [(2026, 3, 8), (2026, 3, 29), (2026, 6, 15), (2026, 10, 25), (2026, 11, 1)]


def awake(moment, zone):
    local = moment.astimezone(zone)
    return 8 <= local.hour < 21


@pytest.mark.parametrize("number", [ALASKA, IDAHO, UK_MOBILE])
def test_no_text_outside_the_window_in_any_zone_the_number_may_be_in(campaign, number):
    zones = [zoneinfo.ZoneInfo(z) for z in phone_timezones(number)]
    assert len(zones) > 1, "a number with several zones"
    outside = []
    for day in DAYS:
        start = datetime(*day, 0, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
        for hour in range(0, 24):
            moment = start + timedelta(hours=hour, minutes=30)
            with time_machine.travel(moment, tick=False):
                reminder = ReminderFactory(campaign=campaign, to=number, send_at=moment)
                outcome = reminder_send(reminder_id=reminder.pk)
            reminder.refresh_from_db()
            at = moment if outcome == Reminder.Status.SENT else reminder.send_at
            assert outcome in (Reminder.Status.SENT, Reminder.Status.PENDING)
            if outcome == Reminder.Status.PENDING:
                assert at > moment
            outside += [(number, at, zone.key) for zone in zones if not awake(at, zone)]
    assert outside == []


@time_machine.travel(datetime(2024, 10, 8, 7, 30, tzinfo=zoneinfo.ZoneInfo("America/Boise")))
def test_a_located_household_gives_the_zone(campaign):
    # 07:30 in Boise is 06:30 in Los Angeles; the household is in Boise, so 08:00 there.
    boise = HouseholdFactory(campaign=campaign, lat=43.615, lng=-116.2023)
    person = PersonFactory(campaign=campaign, household=boise)
    commitment = CommitmentFactory(campaign=campaign, person=person, phone=IDAHO)
    reminder = ReminderFactory(campaign=campaign, commitment=commitment, to=IDAHO)
    assert reminder_send(reminder_id=reminder.pk) == Reminder.Status.PENDING
    reminder.refresh_from_db()
    assert reminder.send_at == datetime(
        2024, 10, 8, 8, 0, tzinfo=zoneinfo.ZoneInfo("America/Boise")
    )
