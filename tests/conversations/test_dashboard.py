"""The conversations dashboard and coaching view against a small campaign worked out by hand."""

import zoneinfo
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from canvass.models import Membership
from conversations.dashboard import campaign_dashboard_numbers
from conversations.models import Commitment, StoryNote, Visit
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    CommitmentFactory,
    MembershipFactory,
    ShiftFactory,
    StoryNoteFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
    VolunteerFactory,
)
from turf.services import assignment_create

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
Outcome = Visit.Outcome


def at(day, hour):
    return datetime(2026, 11, day, hour, 0, tzinfo=CHICAGO)


@pytest.fixture
def town(campaign, organizer, volunteer):
    """Vera walks Alder on Nov 3 (late evening: still Nov 3 in Chicago, Nov 4 in UTC),
    Sam walks Birch on Nov 4.

    Alder: a conversation (3 → 7, 12 min, Housing + Family, shared, self 8) that led to a
    kept meeting; a conversation (5 → 5, 20 min, Housing) with a missed one; a refusal; not
    home. Birch: a conversation (6 → 8, 15 min, Faith) with an open vote plan; not home
    twice at the same door.
    """
    sam = VolunteerFactory(campaign=campaign, first_name="Sam", last_name="Reyes")
    shift = ShiftFactory(campaign=campaign, starts_at=at(3, 17), ends_at=at(3, 23))
    alder_turf = TurfFactory(campaign=campaign, name="Alder", doors=4)
    birch_turf = TurfFactory(campaign=campaign, name="Birch", doors=2)
    alder, _ = assignment_create(
        turf=alder_turf, volunteers=[volunteer], shift=shift, created_by=organizer
    )
    birch, _ = assignment_create(turf=birch_turf, volunteers=[sam], created_by=organizer)
    a = [stop.household for stop in alder_turf.stops.all()]
    b = [stop.household for stop in birch_turf.stops.all()]

    def visit(assignment, household, outcome, when, who, note=None, commitment=None):
        v = VisitFactory(
            campaign=campaign,
            assignment=assignment,
            household=household,
            outcome=outcome,
            happened_at=when,
            volunteer=who,
        )
        if note:
            StoryNoteFactory(visit=v, **note)
        if commitment:
            kind, status = commitment
            CommitmentFactory(campaign=campaign, visit=v, kind=kind, status=status)
        return v

    visit(
        alder,
        a[0],
        Outcome.CONVERSATION,
        at(3, 22),
        volunteer,
        {
            "rating_before": 3,
            "rating_after": 7,
            "minutes": 12,
            "themes": ["Housing", "Family"],
            "canvasser_shared_story": True,
            "self_rating": 8,
        },
        ("meeting", "kept"),
    )
    visit(
        alder,
        a[1],
        Outcome.CONVERSATION,
        at(3, 21),
        volunteer,
        {"rating_before": 5, "rating_after": 5, "minutes": 20, "themes": ["Housing"]},
        ("meeting", "missed"),
    )
    visit(alder, a[2], Outcome.REFUSED, at(3, 20), volunteer)
    visit(alder, a[3], Outcome.NOT_HOME, at(3, 19), volunteer)
    visit(
        birch,
        b[0],
        Outcome.CONVERSATION,
        at(4, 11),
        sam,
        {"rating_before": 6, "rating_after": 8, "minutes": 15, "themes": ["Faith"]},
        ("vote_plan", "open"),
    )
    visit(birch, b[1], Outcome.NOT_HOME, at(4, 10), sam)
    visit(birch, b[1], Outcome.NOT_HOME, at(4, 12), sam)
    return {"shift": shift, "sam": sam}  # fmt: skip


def numbers(row):
    return (
        row.doors,
        row.visits,
        row.contact_rate_percent,
        row.conversations,
        row.median_minutes,
        row.average_before,
        row.average_after,
        row.moved_percent,
        row.commitments,
        row.followthrough_percent,
    )


def test_the_numbers_match_the_hand_count(campaign, town):
    dashboard = campaign_dashboard_numbers(campaign)

    assert numbers(dashboard.total) == (6, 7, 57, 3, 15, 4.7, 6.7, 67, 3, 50)
    assert dashboard.total.themes == {"Housing": 2, "Family": 1, "Faith": 1}
    assert [(row.label, numbers(row)) for row in dashboard.by_turf] == [
        ("Alder", (4, 4, 75, 2, 16, 4.0, 6.0, 50, 2, 50)),
        ("Birch", (2, 3, 33, 1, 15, 6.0, 8.0, 100, 1, None)),
    ]
    assert [(row.label, numbers(row)) for row in dashboard.by_volunteer] == [
        ("Sam Reyes", (2, 3, 33, 1, 15, 6.0, 8.0, 100, 1, None)),
        ("Vera Lopez", (4, 4, 75, 2, 16, 4.0, 6.0, 50, 2, 50)),
    ]
    # Days are the campaign's: 10 pm on Nov 3 in Chicago is still Nov 3.
    assert [(row.label, row.visits, row.commitments) for row in dashboard.by_day] == [
        ("2026-11-03", 4, 2),
        ("2026-11-04", 3, 1),
    ]


def test_the_page_shows_charts_with_their_numbers_beside_them(campaign, town, field_lead, client):
    client.login(username="farid", password=PASSWORD)
    response = client.get(reverse("conversations_dashboard", args=[campaign.slug]))
    page = response.content.decode()

    assert response.status_code == 200
    assert page.count('src="data:image/svg+xml;base64,') == 3
    assert "<caption>Ratings before and after (canvasser-reported)</caption>" in page
    assert '<th scope="row">Housing</th><td>2</td>' in page
    assert '<th scope="row">2026-11-04</th><td>2</td><td>1</td>' in page
    assert "57%" in page and "canvasser-reported" in page
    assert page.count('<tr><th scope="row">') >= 2


def test_the_breakdown_is_sortable_searchable_and_paginated(
    campaign, town, organizer, client, monkeypatch
):
    from conversations import dashboard_views

    client.login(username="olivia", password=PASSWORD)
    url = reverse("conversations_dashboard", args=[campaign.slug])

    def first_rows(**params):
        page = client.get(url, params).content.decode()
        table = page[page.index('id="breakdown-table"') :]
        return [
            name for name in ("Alder", "Birch", "Sam Reyes", "Vera Lopez") if name in table
        ], table

    names, _ = first_rows(sort="conversations", dir="desc")
    assert names == ["Alder", "Birch"]
    _, table = first_rows(sort="contact_rate_percent", dir="asc")
    assert table.index("Birch") < table.index("Alder")
    names, table = first_rows(by="volunteer", q="sam")
    assert names == ["Sam Reyes"]
    assert reverse("coaching", args=[campaign.slug, town["sam"].pk]) in table

    monkeypatch.setattr(dashboard_views, "PAGE_SIZE", 1)
    _, table = first_rows(page=2)
    assert "Birch" in table and "Alder" not in table.split("</table>")[0]
    assert "Page 2 of 2" in table

    response = client.get(url, {"sort": "colour"})
    assert response.status_code == 400 and "“colour” is not a column" in response.content.decode()


def test_who_sees_the_dashboard(campaign, town, outsider, client):
    url = reverse("conversations_dashboard", args=[campaign.slug])
    user = UserFactory(username="val")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    client.login(username="val", password=PASSWORD)
    assert client.get(url).status_code == 403
    client.login(username="oscar", password=PASSWORD)
    assert client.get(url).status_code == 404


def test_an_empty_campaign_says_so_without_charts(campaign, organizer, client):
    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("conversations_dashboard", args=[campaign.slug])).content.decode()
    assert "data:image/svg" not in page and "Nothing recorded yet." in page


# --- Coaching --------------------------------------------------------------------------


def test_coaching_shows_a_volunteers_conversations_beside_the_campaigns_medians(
    campaign, town, volunteer, field_lead, client
):
    client.login(username="farid", password=PASSWORD)
    url = reverse("coaching", args=[campaign.slug, volunteer.pk])
    page = client.get(url).content.decode()

    start = page.index('id="medians"')
    medians = page[start : page.index("</table>", start)]
    # Vera: 2 notes, lengths 12 and 20 → 16, shifts +4 and 0 → 2, shared 1 of 2, self 8.
    assert "<td>2</td><td>16</td><td>2</td><td>50%</td><td>8</td>" in medians
    # The campaign: 3 notes, 12/20/15 → 15, shifts 4/0/2 → 2, shared 1 of 3, self 8.
    assert "<td>3</td><td>15</td><td>2</td><td>33%</td><td>8</td>" in medians
    conversations = page[page.index('id="conversations"') :]
    assert conversations.count("<tr><td") == 2
    assert "3 → 7" in conversations and "Housing, Family" in conversations
    for prompt in ("judging", "talk more", "story of my own", "values"):
        assert prompt in page
    assert "SECRET" not in page and "falls behind" not in page  # no story text


def test_coaching_after_one_shift(campaign, town, volunteer, organizer, client):
    other = ShiftFactory(campaign=campaign, starts_at=at(10, 9), ends_at=at(10, 12))
    late = VisitFactory(
        campaign=campaign, volunteer=volunteer, outcome=Outcome.CONVERSATION, happened_at=at(10, 10)
    )
    StoryNoteFactory(visit=late, minutes=40)
    client.login(username="olivia", password=PASSWORD)
    url = reverse("coaching", args=[campaign.slug, volunteer.pk])

    shift_page = client.get(url, {"shift": town["shift"].pk}).content.decode()
    assert shift_page[shift_page.index('id="conversations"') :].count("<tr><td") == 2
    other_page = client.get(url, {"shift": other.pk}).content.decode()
    assert other_page[other_page.index('id="conversations"') :].count("<tr><td") == 1
    assert client.get(url, {"shift": "x"}).status_code == 400


def test_coaching_is_for_this_campaigns_volunteers_only(campaign, town, organizer, client):
    stranger = VolunteerFactory(campaign=CampaignFactory())
    client.login(username="olivia", password=PASSWORD)
    assert client.get(reverse("coaching", args=[campaign.slug, stranger.pk])).status_code == 404
    assert Commitment.objects.count() == 3


@pytest.mark.postgres
def test_the_sql_and_the_python_way_give_the_same_numbers(campaign, town):
    from conversations import dashboard

    def run(notes):
        numbers = dashboard.campaign_dashboard_numbers(campaign)  # the visit counts
        for group in (numbers.total, *numbers.by_turf, *numbers.by_volunteer, *numbers.by_day):
            group.median_minutes, group.timed, group.rated_both, group.moved = None, 0, 0, 0
            group.average_before = group.average_after = None
            group.themes.clear()
        groups = {name: {row.key: row for row in numbers.group(name)} for name in dashboard.GROUPS}
        notes(campaign, numbers.total, groups)
        return numbers

    assert run(dashboard._notes_postgresql) == run(dashboard._notes_python)
    assert run(dashboard._notes_python).total.median_minutes == 15


def test_the_page_keeps_its_numbers_only_until_the_next_write(
    campaign, town, organizer, client, django_assert_max_num_queries
):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("conversations_dashboard", args=[campaign.slug])
    assert 'id="read-at">Numbers as of' in client.get(url).content.decode()
    # Nothing written since: the numbers are not counted again.
    with django_assert_max_num_queries(6):
        assert client.get(url).context["total"].visits == 7

    VisitFactory(campaign=campaign, outcome=Outcome.NOT_HOME)
    assert client.get(url).context["total"].visits == 8
    # A write that sends no signal (a queryset's update) is seen too.
    Visit.objects.filter(campaign=campaign, outcome=Outcome.NOT_HOME).update(
        outcome=Outcome.CONVERSATION
    )
    assert client.get(url).context["total"].conversations == 3 + 4
    StoryNote.objects.filter(visit__campaign=campaign).update(minutes=30)
    assert client.get(url).context["total"].median_minutes == 30
    Commitment.objects.filter(campaign=campaign).update(status=Commitment.Status.KEPT)
    assert client.get(url).context["total"].followthrough_percent == 100


def test_the_heavy_pages_read_a_fixed_number_of_queries(
    campaign, town, volunteer, organizer, client
):
    client.login(username="olivia", password=PASSWORD)
    pages = [
        reverse("campaign_dashboard", args=[campaign.slug]),
        reverse("conversations_dashboard", args=[campaign.slug]),
        reverse("conversations_dashboard", args=[campaign.slug]) + "?by=volunteer",
        reverse("followthrough", args=[campaign.slug]),
        reverse("coaching", args=[campaign.slug, volunteer.pk]),
    ]

    def read_all():
        counts = []
        for url in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    from django.core.cache import cache

    small = read_all()
    cache.clear()
    for i in range(12):
        other = VolunteerFactory(campaign=campaign, first_name=f"Extra{i}")
        visit = VisitFactory(campaign=campaign, volunteer=other, outcome=Outcome.CONVERSATION)
        StoryNoteFactory(visit=visit, minutes=10 + i)
        CommitmentFactory(campaign=campaign, visit=visit, kind="meeting")
    assert read_all() == small
    assert max(small) <= 20, small


def test_only_the_breakdowns_asked_for_are_computed(campaign, town):
    dashboard = campaign_dashboard_numbers(campaign, groups=("day",))
    assert dashboard.by_turf == [] and dashboard.by_volunteer == []
    assert [row.label for row in dashboard.by_day] == ["2026-11-03", "2026-11-04"]
    assert numbers(dashboard.total) == (6, 7, 57, 3, 15, 4.7, 6.7, 67, 3, 50)
