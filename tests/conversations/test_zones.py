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


# --- The zone the person gave ------------------------------------------------------------

# A Texas number kept by someone who lives in London, at a household located in Austin: the
# zone they gave wins over the household's and the number's.
TEXAS = "+15125550123"
AUSTIN = {"lat": 30.2672, "lng": -97.7431}


@pytest.mark.parametrize(
    "number, given",
    [(TEXAS, "Europe/London"), (ALASKA, "America/Adak"), (UK_MOBILE, "Europe/Isle_of_Man")],
)
def test_the_zone_the_person_gave_is_their_quiet_hours_across_2026(campaign, number, given):
    true_zone = zoneinfo.ZoneInfo(given)
    household = HouseholdFactory(campaign=campaign, **AUSTIN)
    person = PersonFactory(campaign=campaign, household=household, timezone=given)
    outside, sent = [], 0
    for day in DAYS:
        start = datetime(*day, 0, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
        for hour in range(0, 24):
            moment = start + timedelta(hours=hour, minutes=30)
            with time_machine.travel(moment, tick=False):
                # One commitment each: the cap of three per commitment is not under test.
                commitment = CommitmentFactory(
                    campaign=campaign, person=person, phone=number, when=None
                )
                reminder = ReminderFactory(
                    campaign=campaign, commitment=commitment, to=number, send_at=moment
                )
                outcome = reminder_send(reminder_id=reminder.pk)
            reminder.refresh_from_db()
            assert outcome in (Reminder.Status.SENT, Reminder.Status.PENDING)
            at = moment if outcome == Reminder.Status.SENT else reminder.send_at
            sent += outcome == Reminder.Status.SENT
            if not awake(at, true_zone):
                outside.append(at.astimezone(true_zone))
            if outcome == Reminder.Status.PENDING:
                # Deferred to the first waking minute there, never later.
                assert at.astimezone(true_zone).time() == datetime.min.time().replace(hour=8)
    assert outside == []
    assert sent == 13 * len(DAYS), "every waking hour there, none outside it"


def test_a_plan_names_the_time_in_the_zone_the_person_gave(campaign):
    from conversations.models import Channel, Step
    from conversations.services import commitment_record

    chicago = zoneinfo.ZoneInfo("America/Chicago")
    person = PersonFactory(campaign=campaign, first_name="Ana", timezone="America/New_York")
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=chicago), tick=False):
        commitment = commitment_record(
            campaign=campaign,
            kind="meeting",
            what="The tenants' meeting",
            person=person,
            when=datetime(2026, 3, 10, 19, 0, tzinfo=chicago),
            channel=Channel.SMS,
            phone=TEXAS,
        )
    confirm = commitment.reminders.get(step=Step.CONFIRM)
    assert "Tuesday Mar 10 at 8pm" in confirm.body, "19:00 in Chicago is 20:00 in New York"


def test_an_organizer_records_the_zone_on_the_person_page(client, campaign, organizer):
    from django.urls import reverse

    from canvass.models import AuditEvent

    person = PersonFactory(campaign=campaign)
    client.force_login(organizer)
    url = reverse("person_details", args=[campaign.slug, person.pk])
    page = client.post(url, {"language": "es", "timezone": "Mars/Olympus"})
    assert page.status_code == 400
    assert "is not a time zone" in page.content.decode()
    person.refresh_from_db()
    assert (person.timezone, person.language) == ("", ""), "nothing half-written"

    page = client.post(url, {"language": "es", "timezone": "America/Anchorage"})
    assert page.status_code == 302
    person.refresh_from_db()
    assert (person.timezone, person.language) == ("America/Anchorage", "es")
    assert AuditEvent.objects.filter(action="person.details").count() == 1
    shown = client.get(reverse("person_detail", args=[campaign.slug, person.pk]))
    assert "America/Anchorage" in shown.content.decode()
