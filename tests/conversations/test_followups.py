"""My follow-ups: the sections an owner sees, marking what happened, and who may do it."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from canvass.models import Membership
from conversations import services
from conversations.followups import followup_record, followups_for_owner
from conversations.models import Channel, Commitment, FollowUpEvent, OptOut, Reminder
from conversations.services import commitment_record
from tests.factories import (
    CampaignFactory,
    CommitmentFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")
# A Tuesday well away from daylight-saving changes.
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
Outcome = FollowUpEvent.Outcome


@pytest.fixture
def owner(campaign):
    """A volunteer with a login who owns follow-ups in `campaign`."""
    user = UserFactory(username="nadia", first_name="Nadia")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.fixture
def other_owner(campaign):
    user = UserFactory(username="omar", first_name="Omar")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.fixture
def commitment(campaign, owner):
    return CommitmentFactory(
        campaign=campaign,
        owner=owner,
        person=PersonFactory(campaign=campaign, first_name="Maria", last_name="Lopez"),
        what="Tenants' meeting at the library",
        when=NOON + timedelta(days=2),
    )


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def mark_url(commitment):
    return reverse("followup_mark", args=[commitment.pk])


def names(rows):
    return [row.commitment.what for row in rows]


# --- Sections ---------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_sections_bucket_by_the_date_in_each_campaigns_time_zone(campaign, owner, other_owner):
    west = CampaignFactory(name="Bay tenants", timezone="America/Los_Angeles")
    MembershipFactory(user=owner, campaign=west, role=Membership.Role.VOLUNTEER)
    at = {
        # 20:00 in Chicago is already tomorrow in UTC: still due today here.
        "tonight": datetime(2024, 10, 8, 20, 0, tzinfo=CHICAGO),
        # 23:30 yesterday in Chicago is today in UTC: overdue here.
        "late yesterday": datetime(2024, 10, 7, 23, 30, tzinfo=CHICAGO),
        "just after midnight": datetime(2024, 10, 9, 0, 30, tzinfo=CHICAGO),
    }
    for what, when in at.items():
        CommitmentFactory(campaign=campaign, owner=owner, what=what, when=when)
    CommitmentFactory(campaign=campaign, owner=owner, what="call back some time", when=None)
    # 23:00 in Los Angeles is 01:00 tomorrow in Chicago: today in its own campaign.
    CommitmentFactory(
        campaign=west,
        owner=owner,
        what="west tonight",
        when=datetime(2024, 10, 8, 23, 0, tzinfo=LOS_ANGELES),
    )
    # Not Nadia's to chase: settled, someone else's, or in a campaign she has left.
    CommitmentFactory(
        campaign=campaign,
        owner=owner,
        what="kept already",
        when=NOON,
        status=Commitment.Status.KEPT,
    )
    CommitmentFactory(campaign=campaign, owner=other_owner, what="Omar's", when=NOON)
    left = CampaignFactory(name="Old campaign")
    CommitmentFactory(campaign=left, owner=owner, what="from a campaign she left", when=NOON)

    sections = followups_for_owner(owner)

    assert names(sections.today) == ["tonight", "west tonight"]
    assert names(sections.overdue) == ["late yesterday"]
    assert names(sections.upcoming) == ["just after midnight"]
    assert names(sections.undated) == ["call back some time"]
    assert names(sections.due) == ["tonight", "west tonight", "late yesterday"]


@time_machine.travel(NOON, tick=False)
def test_my_follow_ups_page_shows_each_row_with_whom_what_when_and_where_from(
    campaign, owner, volunteer, assignment, django_assert_max_num_queries
):
    assignment_row, _token = assignment
    maria = PersonFactory(campaign=campaign, first_name="Maria", last_name="Lopez")
    visit = VisitFactory(
        campaign=campaign, assignment=assignment_row, volunteer=volunteer, person=maria
    )
    CommitmentFactory(
        campaign=campaign,
        owner=owner,
        person=maria,
        visit=visit,
        what="Tenants' meeting at the library",
        when=NOON.replace(hour=19),
        phone="+15125550123",
        email="maria@example.org",
    )
    OptOut.objects.create(address="maria@example.org")
    dnc = PersonFactory(campaign=campaign, first_name="Dana", do_not_contact=True)
    CommitmentFactory(campaign=campaign, owner=owner, person=dnc, what="Support group", when=None)

    client = client_for(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("followups_mine"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Maria Lopez" in page
    assert "Tenants&#x27; meeting at the library" in page
    assert "Today 7:00 PM CDT" in page
    assert 'href="tel:+15125550123"' in page and "(512) 555-0123" in page
    assert "opted out of email" in page
    assert "Turf Maple blocks" in page and "with Vera Lopez" in page
    assert "Do not contact" in page
    # Dana's phone from the factory is never shown: she asked not to be contacted.
    assert page.count('href="tel:') == 1
    assert page.count('name="csrfmiddlewaretoken"') >= 2


def test_nothing_to_follow_up_says_so(owner):
    response = client_for(owner).get(reverse("followups_mine"))
    assert "Nobody is waiting on you" in response.content.decode()


def test_my_follow_ups_needs_a_login(client):
    response = client.get(reverse("followups_mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _owned(campaign, owner, count, *, days, name, what="Meeting"):
    people = [
        PersonFactory(campaign=campaign, first_name=f"{name}{i:03d}", last_name="Neighbor")
        for i in range(count)
    ]
    Commitment.objects.bulk_create(
        Commitment(
            campaign=campaign,
            owner=owner,
            person=person,
            kind="meeting",
            what=f"{what} {i}",
            when=None if days is None else NOON + timedelta(days=days, minutes=i),
        )
        for i, person in enumerate(people)
    )


@pytest.fixture
def busy_owner(campaign, owner, other_owner):
    with time_machine.travel(NOON, tick=False):
        _owned(campaign, owner, 120, days=-3, name="Late")
        _owned(campaign, owner, 3, days=0, name="Today")
        _owned(campaign, owner, 2, days=None, name="Someday", what="Call back")
        _owned(campaign, other_owner, 5, days=-3, name="Omars")
    return owner


@time_machine.travel(NOON, tick=False)
def test_my_follow_ups_are_paginated_by_section(busy_owner):
    client = client_for(busy_owner)
    url = reverse("followups_mine")

    page = client.get(url).content.decode()
    assert page.count('class="fu"') == 10 + 3 + 2
    assert "All 120 overdue" in page and "Omars" not in page

    first = client.get(url, {"section": "overdue"}).content.decode()
    last = client.get(url, {"section": "overdue", "page": 3}).content.decode()
    assert first.count('class="fu"') == 50 and "Page 1 of 3 (1–50 of 120)" in first
    assert last.count('class="fu"') == 20 and "Late119" in last and "Late099" not in last


@time_machine.travel(NOON, tick=False)
def test_my_follow_ups_are_searchable_and_sortable(busy_owner):
    client = client_for(busy_owner)
    url = reverse("followups_mine")

    found = client.get(url, {"q": "late11", "sort": "-when"}).context["found"]
    assert found.counts == {"today": 0, "overdue": 10, "upcoming": 0, "undated": 0}
    assert [r.person_name for r in dict(found.sections)["overdue"]][:2] == [
        "Late119 Neighbor",
        "Late118 Neighbor",
    ]
    found = client.get(url, {"section": "undated", "q": "call back"}).context["found"]
    assert [r.person_name for r in dict(found.sections)["undated"]] == [
        "Someday000 Neighbor",
        "Someday001 Neighbor",
    ]
    found = client.get(url, {"section": "overdue", "sort": "person"}).context["found"]
    assert dict(found.sections)["overdue"][0].person_name == "Late000 Neighbor"
    # Another owner's commitments never match a search.
    assert "No open commitment matches" in client.get(url, {"q": "Omars"}).content.decode()

    response = client.get(url, {"sort": "colour"})
    assert response.status_code == 400 and "“colour” is not a sort." in response.content.decode()
    assert client.get(url, {"section": "later"}).status_code == 400
    assert client.get(url, {"q": "x" * 101}).status_code == 400


@time_machine.travel(NOON, tick=False)
def test_my_follow_ups_read_a_fixed_number_of_queries(
    campaign, owner, django_assert_max_num_queries
):
    west = CampaignFactory(name="Bay tenants", timezone="America/Los_Angeles")
    MembershipFactory(user=owner, campaign=west, role=Membership.Role.VOLUNTEER)
    client = client_for(owner)
    url = reverse("followups_mine")

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    _owned(campaign, owner, 3, days=-1, name="A")
    _owned(west, owner, 2, days=2, name="W")
    _owned(west, owner, 1, days=0, name="Y")
    _owned(campaign, owner, 1, days=None, name="D")
    small = queries(), queries(section="overdue"), queries(q="A00")
    _owned(campaign, owner, 90, days=-1, name="B")
    _owned(west, owner, 40, days=0, name="X")
    _owned(campaign, owner, 30, days=None, name="C")
    assert (queries(), queries(section="overdue"), queries(q="A00")) == small
    with django_assert_max_num_queries(10):
        client.get(url)


# --- Marking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.KEPT, Commitment.Status.KEPT),
        (Outcome.MISSED, Commitment.Status.MISSED),
        (Outcome.CANCELLED, Commitment.Status.CANCELLED),
        (Outcome.REACHED, Commitment.Status.OPEN),
        (Outcome.NOT_REACHED, Commitment.Status.OPEN),
    ],
)
@time_machine.travel(NOON, tick=False)
def test_marking_an_outcome_sets_status_and_records_who_and_when(
    commitment, owner, outcome, status
):
    response = client_for(owner).post(
        mark_url(commitment), {"outcome": outcome, "note": "  Said her shift changed.  "}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("followups_mine")
    commitment.refresh_from_db()
    assert commitment.status == status
    assert commitment.when == NOON + timedelta(days=2)
    event = FollowUpEvent.objects.get(commitment=commitment)
    assert (event.outcome, event.by, event.at) == (outcome, owner, NOON)
    assert event.note == "Said her shift changed."
    assert (event.status_before, event.status_after) == (Commitment.Status.OPEN, status)


@time_machine.travel(NOON, tick=False)
def test_rescheduling_reads_the_new_date_in_the_campaign_time_zone_and_reopens(commitment, owner):
    commitment.status = Commitment.Status.MISSED
    commitment.save()

    response = client_for(owner).post(
        mark_url(commitment), {"outcome": "rescheduled", "new_when": "2024-10-15T18:30"}
    )

    assert response.status_code == 302
    commitment.refresh_from_db()
    new_when = datetime(2024, 10, 15, 18, 30, tzinfo=CHICAGO)
    assert (commitment.when, commitment.status) == (new_when, Commitment.Status.OPEN)
    event = commitment.followup_events.get()
    assert (event.when_before, event.when_after) == (NOON + timedelta(days=2), new_when)
    assert (event.status_before, event.status_after) == ("missed", "open")


@time_machine.travel(NOON, tick=False)
def test_a_date_left_in_the_form_does_not_reschedule_a_kept_commitment(commitment, owner):
    client_for(owner).post(
        mark_url(commitment), {"outcome": "kept", "new_when": "2024-10-15T18:30"}
    )
    commitment.refresh_from_db()
    assert (commitment.status, commitment.when) == ("kept", NOON + timedelta(days=2))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "rescheduled"}, "Pick the new date and time"),
        ({"outcome": "rescheduled", "new_when": "2024-10-01T09:00"}, "That date has passed"),
        ({"outcome": "rescheduled", "new_when": "next week"}, "Enter a valid date/time"),
        (
            {"outcome": "rescheduled", "new_when": "9999-12-31T23:30"},
            "Give a date from 2000 to 2099",
        ),
        ({"outcome": "rescheduled", "new_when": "10000-01-01T09:00"}, "Enter a valid date/time"),
        ({"outcome": "showed up"}, "Select a valid choice"),
        ({"outcome": "kept", "note": "x" * 2001}, "at most 2000 characters"),
    ],
)
@time_machine.travel(NOON, tick=False)
def test_bad_input_says_what_was_wrong_and_writes_nothing(commitment, owner, data, message):
    response = client_for(owner).post(mark_url(commitment), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was marked" in response.content.decode()
    commitment.refresh_from_db()
    assert (commitment.status, commitment.when) == ("open", NOON + timedelta(days=2))
    assert not FollowUpEvent.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_the_service_refuses_an_unknown_outcome_and_a_stray_date(commitment, owner):
    with pytest.raises(ValidationError) as error:
        followup_record(commitment=commitment, outcome="flaked", by=owner)
    assert "“flaked” is not an outcome" in str(error.value)
    with pytest.raises(ValidationError) as error:
        followup_record(
            commitment=commitment, outcome="kept", by=owner, new_when=NOON + timedelta(days=1)
        )
    assert "only with “Rescheduled”" in str(error.value)
    assert not FollowUpEvent.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_no_path_gives_a_commitment_a_time_past_2099(campaign, commitment):
    """Reminders are planned days around a commitment's time: year 9999 in Chicago used
    to overflow the calendar (a 500 after the follow-up was half applied)."""
    far = datetime(9999, 12, 31, 23, 30, tzinfo=CHICAGO)
    with pytest.raises(ValidationError, match="Give a date from 2000 to 2099"):
        commitment_record(campaign=campaign, kind="meeting", what="Meeting", when=far)
    with pytest.raises(ValidationError, match="Give a date from 2000 to 2099"):
        services.commitment_change(commitment=commitment, when=far)
    assert Commitment.objects.get() == commitment
    commitment.refresh_from_db()
    assert commitment.when == NOON + timedelta(days=2)
    assert not Reminder.objects.exclude(send_at__lt=NOON + timedelta(days=3)).exists()


@time_machine.travel(NOON, tick=False)
def test_history_lists_every_mark_with_who_and_when(commitment, owner, organizer):
    followup_record(commitment=commitment, outcome="not_reached", by=owner, note="Voicemail.")
    with time_machine.travel(NOON + timedelta(hours=3), tick=False):
        followup_record(commitment=commitment, outcome="reached", by=organizer)

    response = client_for(owner).get(mark_url(commitment))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Reached</strong>") < page.index("Not reached</strong>")  # newest first
    assert "by Olivia" in page and "by Nadia" in page
    assert "Tue Oct 8, 3:00 PM" in page and "Tue Oct 8, 12:00 PM" in page
    assert "Voicemail." in page


def test_a_safe_next_url_is_followed_and_another_site_is_not(commitment, owner, campaign):
    client = client_for(owner)
    response = client.post(mark_url(commitment), {"outcome": "reached", "next": "/follow-ups/#x"})
    assert response["Location"] == "/follow-ups/#x"
    response = client.post(
        mark_url(commitment), {"outcome": "reached", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("followups_mine")


def test_marking_needs_the_csrf_token(commitment, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(mark_url(commitment), {"outcome": "kept"})

    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.OPEN


# --- Who may act --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "other_owner", "field_lead"])
def test_anyone_but_the_owner_or_an_organizer_gets_404(commitment, who, request):
    client = client_for(request.getfixturevalue(who))

    assert client.get(mark_url(commitment)).status_code == 404
    assert client.post(mark_url(commitment), {"outcome": "kept"}).status_code == 404
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.OPEN
    assert not FollowUpEvent.objects.exists()


def test_an_owner_who_left_the_campaign_can_no_longer_act(commitment, owner):
    Membership.objects.filter(user=owner).delete()
    assert client_for(owner).post(mark_url(commitment), {"outcome": "kept"}).status_code == 404


def test_an_unknown_commitment_is_404(owner):
    assert client_for(owner).get(reverse("followup_mark", args=[999999])).status_code == 404


def test_anonymous_is_sent_to_log_in(commitment, client):
    response = client.post(mark_url(commitment), {"outcome": "kept"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@time_machine.travel(NOON, tick=False)
def test_an_organizer_of_the_campaign_may_act_and_is_recorded(commitment, organizer):
    response = client_for(organizer).post(mark_url(commitment), {"outcome": "missed"})

    assert response.status_code == 302
    event = FollowUpEvent.objects.get(commitment=commitment)
    assert (event.by, event.outcome) == (organizer, "missed")


@time_machine.travel(NOON, tick=False)
def test_organizers_see_every_open_commitment_and_outsiders_see_nothing(
    campaign, commitment, organizer, outsider, field_lead
):
    CommitmentFactory(campaign=campaign, owner=None, what="Nobody owns this", when=None)
    url = reverse("followups_campaign", args=[campaign.slug])

    page = client_for(organizer).get(url).content.decode()
    assert "Tenants&#x27; meeting at the library" in page and "owner: Nadia" in page
    assert "Nobody owns this" in page and 'owner: <strong class="fu-warn">nobody' in page
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(field_lead).get(url).status_code == 403


# --- The reminder plan follows ------------------------------------------------------


@pytest.fixture
def planned(campaign, owner):
    """A commitment recorded as the door screen records it, with its reminder plan."""
    with time_machine.travel(NOON, tick=False):
        return commitment_record(
            campaign=campaign,
            kind="meeting",
            what="Tenants' meeting at the library",
            person=PersonFactory(campaign=campaign, first_name="Maria"),
            when=NOON + timedelta(days=6),
            owner=owner,
            channel=Channel.SMS,
            phone="+15125550123",
        )


def pending(commitment):
    return set(
        commitment.reminders.filter(status=Reminder.Status.PENDING).values_list("pk", flat=True)
    )


@time_machine.travel(NOON, tick=False)
def test_rescheduling_replans_the_pending_reminders(planned, owner):
    before = pending(planned)
    assert before, "the plan has reminders still to send"
    new_when = NOON + timedelta(days=9)

    followup_record(commitment=planned, outcome="rescheduled", by=owner, new_when=new_when)

    assert not before & pending(planned)
    assert set(Reminder.objects.filter(pk__in=before).values_list("status", flat=True)) == {
        Reminder.Status.CANCELLED
    }
    assert pending(planned), "a new plan was written for the new date"
    assert max(
        planned.reminders.filter(status=Reminder.Status.PENDING).values_list("send_at", flat=True)
    ) > NOON + timedelta(days=6)


@pytest.mark.parametrize("outcome", ["cancelled", "kept", "missed"])
@time_machine.travel(NOON, tick=False)
def test_settling_a_commitment_cancels_its_pending_reminders(planned, owner, outcome):
    assert pending(planned)

    followup_record(commitment=planned, outcome=outcome, by=owner)

    assert pending(planned) == set()
    planned.refresh_from_db()
    assert planned.status == outcome
    event = planned.followup_events.get()
    assert (event.status_before, event.status_after) == ("open", outcome)


@time_machine.travel(NOON, tick=False)
def test_a_contact_attempt_leaves_the_plan_alone(planned, owner):
    before = pending(planned)
    followup_record(commitment=planned, outcome="not_reached", by=owner)
    assert pending(planned) == before
