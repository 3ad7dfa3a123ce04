from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command

from canvass.demo import demo_counts
from canvass.models import Campaign
from turf.models import Person, TurfStop


def _run_demo():
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_builds_a_town_and_a_rerun_changes_nothing():
    first_output = _run_demo()
    campaign = Campaign.objects.get(slug="demo")
    first = demo_counts(campaign=campaign)
    assert 1800 <= first["households"] <= 2200
    assert 3200 <= first["people"] <= 3800
    assert first["turfs"] == 8
    assert first["visits"] > 0 and first["story notes"] > 0
    assert first["commitments"] > 0 and first["reminders"] > 0

    second_output = _run_demo()
    assert demo_counts(campaign=campaign) == first
    # Both runs print the organizer's login and the same volunteer link.
    assert "organizer" in first_output
    link = next(line for line in first_output.splitlines() if "/a/" in line).split()[-1]
    assert link in second_output


@pytest.mark.django_db
def test_demo_people_have_valid_phones_and_turfs_are_in_walk_order():
    _run_demo()
    phones = list(Person.objects.exclude(phone="").values_list("phone", flat=True)[:500])
    assert phones
    for phone in phones:
        assert phone.startswith("+")
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
    for turf in Campaign.objects.get(slug="demo").turfs.all():
        positions = list(
            TurfStop.objects.filter(turf=turf)
            .order_by("position")
            .values_list("position", flat=True)
        )
        assert positions == list(range(len(positions)))


@pytest.mark.django_db
def test_demo_link_opens_the_walk_list(client):
    output = _run_demo()
    link = next(line for line in output.splitlines() if "/a/" in line).split()[-1]
    path = link[link.index("/a/") :]
    response = client.get(path)
    assert response.status_code == 200
    assert b"door/app.js" in response.content
    # The door screen draws the walk list from the bundle behind the same token.
    bundle = client.get("/api" + path + "bundle").json()
    assert bundle["households"]


@pytest.mark.django_db
def test_a_voter_file_for_the_demo_town_finds_its_households(tmp_path):
    # The demo and the importer share one address key, so importing the town's own
    # addresses adds people to the existing households instead of making new ones.
    from turf.imports import voters_import

    _run_demo()
    campaign = Campaign.objects.get(slug="demo")
    households = list(campaign.households.order_by("pk")[:5])
    before = campaign.households.count()
    rows = ["VANID,FirstName,LastName,Address,City,State,Zip5"]
    for n, household in enumerate(households):
        address = f"{household.house_number} {household.street}"
        if household.unit:
            address += f" {household.unit}"
        rows.append(f"T{n},Test,Neighbor{n},{address},{household.city},IL,{household.zip_code}")
    path = tmp_path / "town.csv"
    path.write_text("\n".join(rows) + "\n")

    voters_import(campaign=campaign, path=str(path), preset="van-export")

    assert campaign.households.count() == before
    for n, household in enumerate(households):
        assert (
            Person.objects.get(campaign=campaign, external_id=f"T{n}").household_id == household.pk
        )


@pytest.mark.django_db
def test_demo_shifts_show_every_part_of_signing_up_and_checking_in(client):
    from canvass.models import ShiftSignup

    _run_demo()
    campaign = Campaign.objects.get(slug="demo")
    signups = ShiftSignup.objects.filter(shift__campaign=campaign)
    Status = ShiftSignup.Status
    # Made through signup_create: every one has its personal link.
    assert not signups.filter(token_hash="").exists()
    assert signups.filter(status=Status.WAITLISTED).exists()
    assert signups.filter(promoted_at__isnull=False).exists()
    assert signups.filter(status=Status.NO_SHOW).exists()
    assert signups.filter(source=ShiftSignup.Source.WALK_IN, status=Status.ATTENDED).exists()
    assert signups.filter(status=Status.CONFIRMED).exists()
    series = campaign.shifts.filter(series__isnull=False)
    assert series.count() == 4
    assert campaign.shifts.filter(cancelled_at__isnull=False).count() == 1
    current = campaign.shifts.get(name="Neighborhood canvass")
    assert current.turfs.count() == 5 and current.place_lat is not None and current.contact
    for shift in campaign.shifts.all():
        assert shift.signups.holding().count() <= shift.capacity
    # The public page lists the shifts still to come.
    page = client.get(f"/join/{campaign.slug}/").content.decode()
    assert "Tenant clinic table" in page and "Saturday doors" in page
    assert "Park cleanup table" not in page


@pytest.mark.django_db
def test_demo_commitments_signups_and_reminders_come_from_the_services():
    from canvass.models import ShiftSignup
    from conversations.models import Commitment, Reminder

    _run_demo()
    campaign = Campaign.objects.get(slug="demo")
    reminders = Reminder.objects.filter(campaign=campaign)
    # Only the welcome email is the demo's own; every other row is a plan's.
    assert list(
        reminders.filter(idempotency_key__startswith="demo:").values_list(
            "idempotency_key", flat=True
        )
    ) == ["demo:welcome"]
    for commitment in Commitment.objects.filter(campaign=campaign).exclude(kind="volunteer_shift"):
        assert commitment.reminders.filter(
            idempotency_key__startswith=f"commitment:{commitment.pk}:"
        ).exists()
    # The ladder: a shift said yes to at the door is a signup, with its own messages.
    ladder = Commitment.objects.filter(campaign=campaign, kind="volunteer_shift")
    assert ladder.exists() and not ladder.filter(shift_signup__isnull=True).exists()
    door = ShiftSignup.objects.filter(shift__campaign=campaign, source=ShiftSignup.Source.DOOR)
    assert door.count() == ladder.count()
    assert reminders.filter(signup__in=door, step="shift_confirm").exists()
    # Every signup that agreed to reminders has its confirmation or waitlist notice.
    agreed = ShiftSignup.objects.filter(shift__campaign=campaign, remind_by_sms=True)
    assert reminders.filter(signup__in=agreed).values("signup").distinct().count() > 0
