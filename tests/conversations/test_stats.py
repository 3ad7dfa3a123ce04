"""Follow-through numbers on a small campaign whose every figure is counted by hand."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from canvass.models import Membership
from conversations.models import Commitment, Reminder
from conversations.stats import NO_TURF, NO_VOLUNTEER, FollowThrough, campaign_followthrough
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    CommitmentFactory,
    MembershipFactory,
    ReminderFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db

Status = Commitment.Status
SENT, PENDING, FAILED = Reminder.Status.SENT, Reminder.Status.PENDING, Reminder.Status.FAILED
PERSON, OWNER = Reminder.Recipient.PERSON, Reminder.Recipient.OWNER


def numbers(row):
    return (row.label, row.made, row.reminded, row.kept, row.missed, row.rate)


@pytest.fixture
def town(campaign):
    """Seven commitments in `campaign` (and one elsewhere that must not count).

    | # | turf   | volunteer | kind          | status    | reminders to the person |
    | 1 | Maple  | Vera      | meeting       | kept      | sent                     |
    | 2 | Maple  | Vera      | meeting       | missed    | sent                     |
    | 3 | Maple  | Walt      | support_group | kept      | pending (+ sent to owner)|
    | 4 | Oak    | Walt      | meeting       | open      | sent, sent               |
    | 5 | Oak    | Walt      | vote_plan     | cancelled | failed                   |
    | 6 | —      | —         | meeting       | kept      | sent                     |
    | 7 | —      | —         | petition (a kind since removed) | open | none          |
    """
    vera = VolunteerFactory(campaign=campaign, first_name="Vera", last_name="Lopez")
    walt = VolunteerFactory(campaign=campaign, first_name="Walt", last_name="Kim")
    maple = AssignmentFactory(turf=TurfFactory(campaign=campaign, name="Maple blocks"))
    oak = AssignmentFactory(turf=TurfFactory(campaign=campaign, name="Oak blocks"))
    visits = {
        "maple-vera": VisitFactory(campaign=campaign, assignment=maple, volunteer=vera),
        "maple-walt": VisitFactory(campaign=campaign, assignment=maple, volunteer=walt),
        "oak-walt": VisitFactory(campaign=campaign, assignment=oak, volunteer=walt),
        "fair": VisitFactory(campaign=campaign, household=None, place="County fair"),
    }
    table = [
        ("maple-vera", "meeting", Status.KEPT, [(PERSON, SENT)]),
        ("maple-vera", "meeting", Status.MISSED, [(PERSON, SENT)]),
        ("maple-walt", "support_group", Status.KEPT, [(PERSON, PENDING), (OWNER, SENT)]),
        ("oak-walt", "meeting", Status.OPEN, [(PERSON, SENT), (PERSON, SENT)]),
        ("oak-walt", "vote_plan", Status.CANCELLED, [(PERSON, FAILED)]),
        ("fair", "meeting", Status.KEPT, [(PERSON, SENT)]),
        ("fair", "petition", Status.OPEN, []),
    ]
    for visit, kind, status, reminders in table:
        commitment = CommitmentFactory(
            campaign=campaign, visit=visits[visit], kind=kind, status=status
        )
        for recipient_kind, reminder_status in reminders:
            ReminderFactory(
                campaign=campaign,
                commitment=commitment,
                recipient_kind=recipient_kind,
                status=reminder_status,
            )
    elsewhere = CampaignFactory(name="Northside Neighbors")
    other = CommitmentFactory(campaign=elsewhere, status=Status.KEPT)
    ReminderFactory(campaign=elsewhere, commitment=other, status=SENT)
    return campaign


def test_follow_through_by_campaign_turf_volunteer_and_kind(town):
    numbers_ = campaign_followthrough(town)

    assert numbers(numbers_.total) == ("Eastside Tenants United", 7, 4, 3, 1, 3 / 4)
    assert [numbers(row) for row in numbers_.by_turf] == [
        ("Maple blocks", 3, 2, 2, 1, 2 / 3),
        ("Oak blocks", 2, 1, 0, 0, None),
        (NO_TURF, 2, 1, 1, 0, 1.0),
    ]
    assert [numbers(row) for row in numbers_.by_volunteer] == [
        ("Vera Lopez", 2, 2, 1, 1, 0.5),
        ("Walt Kim", 3, 1, 1, 0, 1.0),
        (NO_VOLUNTEER, 2, 1, 1, 0, 1.0),
    ]
    assert [numbers(row) for row in numbers_.by_kind] == [
        ("Come to a meeting", 4, 4, 2, 1, 2 / 3),
        ("Join a support group", 1, 0, 1, 0, 1.0),
        ("Volunteer a shift", 0, 0, 0, 0, None),
        ("Make a vote plan", 1, 0, 0, 0, None),
        ("Talk again", 0, 0, 0, 0, None),
        ("petition", 1, 0, 0, 0, None),
    ]


def test_rate_is_none_until_something_is_kept_or_missed_and_zero_is_a_rate():
    assert FollowThrough(label="new", made=3).rate is None
    assert FollowThrough(label="new", made=3).rate_percent is None
    assert FollowThrough(label="bad week", made=2, missed=2).rate == 0.0
    assert FollowThrough(label="bad week", made=2, missed=2).rate_percent == 0
    assert FollowThrough(label="good", kept=2, missed=1).rate_percent == 67


def test_an_empty_campaign_has_zeros_and_no_rate(campaign):
    numbers_ = campaign_followthrough(campaign)
    assert numbers(numbers_.total) == ("Eastside Tenants United", 0, 0, 0, 0, None)
    assert numbers_.by_turf == [] and numbers_.by_volunteer == []
    assert [row.made for row in numbers_.by_kind] == [0, 0, 0, 0, 0]


def test_the_number_of_queries_does_not_grow_with_the_data(town, django_assert_num_queries):
    # One to see whether anything changed since the numbers were last kept, then the four.
    with django_assert_num_queries(5):
        campaign_followthrough(town)
    with django_assert_num_queries(2):
        campaign_followthrough(town, breakdowns=False)
    # Nothing written since: kept.
    with django_assert_num_queries(1):
        campaign_followthrough(town)

    more = AssignmentFactory(turf=TurfFactory(campaign=town, name="Pine blocks"))
    for _ in range(5):
        visit = VisitFactory(
            campaign=town, assignment=more, volunteer=VolunteerFactory(campaign=town)
        )
        CommitmentFactory(campaign=town, visit=visit, kind="follow_up", status=Status.MISSED)
    with django_assert_num_queries(5):
        numbers_ = campaign_followthrough(town)
    assert (numbers_.total.made, numbers_.total.missed) == (12, 6)
    assert len(numbers_.by_volunteer) == 8


def test_the_organizer_page_shows_the_tables(town, organizer, field_lead, client):
    for user in (organizer, field_lead):
        client.force_login(user)
        response = client.get(reverse("followthrough", args=[town.slug]))
        page = response.content.decode()
        assert response.status_code == 200
        assert "By turf" in page and "Maple blocks" in page and "67%" in page
        assert "75%" in page  # the whole campaign
    # Only organizers can act on follow-ups, so only they get the link there.
    assert reverse("followups_campaign", args=[town.slug]) not in page


def test_volunteers_are_refused_and_outsiders_see_no_campaign(town, outsider, client):
    member = UserFactory(username="vic")
    MembershipFactory(user=member, campaign=town, role=Membership.Role.VOLUNTEER)
    url = reverse("followthrough", args=[town.slug])
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_dashboard_summary_include(town):
    html = render_to_string(
        "conversations/_followthrough_summary.html",
        {"followthrough": campaign_followthrough(town, breakdowns=False)},
    )
    assert "<strong>75%</strong> kept (3 of 4 with an outcome)" in html
    assert "7 commitments made · 4 reminded · 3 kept · 1 missed" in html
    assert reverse("followthrough", args=[town.slug]) in html


def test_the_summary_include_also_takes_the_total_alone(town):
    html = render_to_string(
        "conversations/_followthrough_summary.html",
        {"followthrough": campaign_followthrough(town, breakdowns=False).total, "campaign": town},
    )
    assert "<strong>75%</strong> kept (3 of 4 with an outcome)" in html
    assert reverse("followthrough", args=[town.slug]) in html


def test_kept_numbers_follow_every_write_however_it_is_made(town):
    pending = ReminderFactory(
        campaign=town,
        commitment=CommitmentFactory(campaign=town, kind="meeting"),
        recipient_kind=PERSON,
        status=PENDING,
    )
    before = campaign_followthrough(town).total
    assert campaign_followthrough(town).total == before  # kept
    # Marked sent by a queryset update (as the delivery worker does): no signal is sent.
    Reminder.objects.filter(pk=pending.pk).update(status=SENT)
    assert campaign_followthrough(town).total.reminded == before.reminded + 1
    # Removed with raw SQL.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM conversations_reminder WHERE campaign_id = %s", [town.pk])
    assert campaign_followthrough(town).total.reminded == 0
