"""The morning digest: one email per owner at 8:00 their time, only when something is due."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from canvass.celery import app
from canvass.models import Membership
from conversations import services
from conversations.followups import (
    followups_digest_send,
    followups_digest_write,
    followups_digests_due,
)
from conversations.models import Reminder
from tests.factories import (
    CommitmentFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
TUESDAY = datetime(2024, 10, 8, tzinfo=CHICAGO)


def member(campaign, username, **fields):
    user = UserFactory(username=username, **fields)
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.fixture
def owners(campaign):
    """Nadia (Chicago, the campaign's zone), Luis (a volunteer profile in Los Angeles),
    and Uma, whose only commitment is on Wednesday."""
    nadia = member(campaign, "nadia", first_name="Nadia")
    luis = member(campaign, "luis", first_name="Luis")
    VolunteerFactory(campaign=campaign, user=luis, timezone="America/Los_Angeles")
    uma = member(campaign, "uma", first_name="Uma")
    maria = PersonFactory(campaign=campaign, first_name="Maria", last_name="Lopez")
    CommitmentFactory(
        campaign=campaign,
        owner=nadia,
        person=maria,
        what="Tenants' meeting at the library",
        when=TUESDAY.replace(hour=18),
    )
    CommitmentFactory(
        campaign=campaign,
        owner=nadia,
        what="Call back about the support group",
        when=TUESDAY - timedelta(days=3),
    )
    CommitmentFactory(
        campaign=campaign, owner=luis, what="Vote plan", when=TUESDAY - timedelta(days=1)
    )
    CommitmentFactory(
        campaign=campaign, owner=uma, what="Canvass shift", when=TUESDAY.replace(day=9, hour=15)
    )
    return nadia, luis, uma


def run_beat_for(start, days, mailoutbox):
    """Run the digest task every 15 minutes for `days` days from `start`, sending whatever
    falls due as the dispatcher would. Returns [(address, local Chicago time sent)]."""
    sent = []
    now = start
    while now < start + timedelta(days=days):
        with time_machine.travel(now, tick=False):
            followups_digest_send()
            for reminder_id in services.reminders_due_ids():
                services.reminder_send(reminder_id=reminder_id)
            while len(sent) < len(mailoutbox):
                sent.append((mailoutbox[len(sent)].to[0], now.astimezone(CHICAGO)))
        now += timedelta(minutes=15)
    return sent


def test_each_owner_gets_one_digest_a_day_at_8_their_time(owners, mailoutbox):
    nadia, luis, uma = owners

    sent = run_beat_for(TUESDAY, days=2, mailoutbox=mailoutbox)

    assert sorted(sent, key=lambda s: (s[1], s[0])) == [
        (nadia.email, datetime(2024, 10, 8, 8, 0, tzinfo=CHICAGO)),
        # 8:00 in Los Angeles.
        (luis.email, datetime(2024, 10, 8, 10, 0, tzinfo=CHICAGO)),
        (nadia.email, datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)),
        # Nothing was due for Uma on Tuesday; on Wednesday her shift is.
        (uma.email, datetime(2024, 10, 9, 8, 0, tzinfo=CHICAGO)),
        (luis.email, datetime(2024, 10, 9, 10, 0, tzinfo=CHICAGO)),
    ]
    keys = set(Reminder.objects.values_list("idempotency_key", flat=True))
    assert f"digest:{luis.pk}:2024-10-08" in keys and f"digest:{uma.pk}:2024-10-09" in keys
    assert f"digest:{uma.pk}:2024-10-08" not in keys


def test_the_digest_lists_what_is_due_today_and_overdue(owners, mailoutbox):
    nadia, _luis, _uma = owners

    run_beat_for(TUESDAY.replace(hour=8), days=1 / 96, mailoutbox=mailoutbox)

    (email,) = mailoutbox
    assert email.to == [nadia.email]
    assert email.subject == "Your follow-ups: 1 due today, 1 overdue"
    body = email.body
    assert "Good morning, Nadia." in body
    assert body.index("DUE TODAY (1)") < body.index("Today 6:00 PM CDT: Maria Lopez")
    assert "come to a meeting — Tenants' meeting at the library" in body
    assert body.index("OVERDUE (1)") < body.index("Sat Oct 5, 12:00 AM CDT")
    assert "Call back about the support group" in body
    assert "Canvass shift" not in body  # Uma's, not Nadia's
    assert "http://" in body and "/follow-ups/" in body
    reminder = Reminder.objects.get()
    assert (reminder.recipient_kind, reminder.status) == ("owner", "sent")


def test_running_twice_in_the_window_writes_one_digest(owners):
    with time_machine.travel(TUESDAY.replace(hour=8, minute=5), tick=False):
        first = followups_digest_write()
    with time_machine.travel(TUESDAY.replace(hour=8, minute=50), tick=False):
        second = followups_digest_write()

    assert [r.to for r in first] == ["nadia@example.org"]
    assert second == []
    assert Reminder.objects.count() == 1


def test_a_late_beat_run_still_sends_the_digest_within_the_hour(owners):
    with time_machine.travel(TUESDAY.replace(hour=8, minute=40), tick=False):
        assert [r.to for r in followups_digest_write()] == ["nadia@example.org"]
    with time_machine.travel(TUESDAY.replace(hour=9, minute=0), tick=False):
        assert followups_digest_write() == []


def test_nothing_due_means_no_digest(campaign, mailoutbox):
    quiet = member(campaign, "quinn")
    CommitmentFactory(campaign=campaign, owner=quiet, when=TUESDAY + timedelta(days=3))
    CommitmentFactory(campaign=campaign, owner=quiet, when=None)
    CommitmentFactory(
        campaign=campaign, owner=quiet, when=TUESDAY - timedelta(days=1), status="kept"
    )

    sent = run_beat_for(TUESDAY, days=1, mailoutbox=mailoutbox)

    assert sent == []
    assert not Reminder.objects.exists()


def test_no_digest_without_an_email_after_leaving_or_when_deactivated(campaign, owners, caplog):
    nadia, luis, uma = owners
    nadia.email = ""
    nadia.save()
    Membership.objects.filter(user=luis).delete()
    uma.is_active = False
    uma.save()
    CommitmentFactory(campaign=campaign, owner=uma, when=TUESDAY - timedelta(days=1))

    with time_machine.travel(TUESDAY.replace(hour=8), tick=False):
        assert followups_digest_write() == []
    with time_machine.travel(TUESDAY.replace(hour=10), tick=False):
        assert followups_digest_write() == []
    assert "no email address" in caplog.text


def test_finding_digests_takes_a_fixed_number_of_queries(campaign, owners):
    def queries_at_8():
        Reminder.objects.all().delete()
        with time_machine.travel(TUESDAY.replace(hour=8), tick=False):
            with CaptureQueriesContext(connection) as queries:
                due = followups_digests_due(now=timezone.now())
        return len(queries), len(due)

    before = queries_at_8()
    for n in range(6):
        owner = member(campaign, f"extra{n}")
        CommitmentFactory(campaign=campaign, owner=owner, when=TUESDAY.replace(hour=12))
    after = queries_at_8()

    assert before[1] == 1 and after[1] == 7
    assert before[0] == after[0]


def test_beat_runs_the_digest_task():
    entry = app.conf.beat_schedule["followups-digest"]
    assert entry["task"] == "conversations.followups.followups_digest_send"
    assert entry["task"] in app.tasks
    # Every run must fall inside the hour-long window at least once.
    assert entry["schedule"] <= 60 * 60


def test_a_long_overdue_list_is_cut_short_with_a_count(campaign, owners, mailoutbox):
    nadia, _luis, _uma = owners
    for days in range(1, 31):
        CommitmentFactory(
            campaign=campaign,
            owner=nadia,
            what=f"Old pledge {days}",
            when=TUESDAY - timedelta(days=days, hours=1),
        )

    with time_machine.travel(TUESDAY.replace(hour=8), tick=False):
        (reminder,) = followups_digest_write()

    assert "OVERDUE (31)" in reminder.body
    assert reminder.body.count("\n- ") == 1 + 25
    assert "…and 6 more." in reminder.body


def test_an_owner_east_of_the_campaign_gets_the_digest_at_8_their_time(campaign, mailoutbox):
    # The campaign is in Chicago; at 8:00 in New York it is 7:00 there, inside the
    # campaign's quiet hours. The digest must still go at 8:00 New York time.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    noor = member(campaign, "noor", first_name="Noor")
    VolunteerFactory(campaign=campaign, user=noor, timezone="America/New_York")
    CommitmentFactory(
        campaign=campaign, owner=noor, what="Call about the meeting", when=TUESDAY.replace(hour=18)
    )

    sent = run_beat_for(TUESDAY, days=1, mailoutbox=mailoutbox)

    assert [(to, when.astimezone(new_york).hour) for to, when in sent] == [(noor.email, 8)]
    reminder = Reminder.objects.get(idempotency_key__startswith=f"digest:{noor.pk}:")
    assert reminder.recipient_timezone == "America/New_York"
