"""The campaign's follow-ups page: paginated by section, searchable, sortable, and a fixed
number of queries whatever the number of open commitments."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.followups import PAGE_SIZE, followups_campaign_page
from conversations.models import Commitment
from tests.factories import PASSWORD, CommitmentFactory, PersonFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOON = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)


def _many(campaign, count, *, days, name="Resident", what="Meeting"):
    people = [
        PersonFactory(campaign=campaign, first_name=f"{name}{i:03d}", last_name="Neighbor")
        for i in range(count)
    ]
    Commitment.objects.bulk_create(
        Commitment(
            campaign=campaign,
            person=person,
            kind="meeting",
            what=f"{what} {i}",
            when=None if days is None else NOON + timedelta(days=days, minutes=i),
        )
        for i, person in enumerate(people)
    )


@pytest.fixture
def busy(campaign):
    with time_machine.travel(NOON, tick=False):
        _many(campaign, 120, days=-3, name="Late")
        _many(campaign, 3, days=0, name="Today")
        _many(campaign, 2, days=None, name="Someday", what="Call back")
    return campaign


@time_machine.travel(NOON, tick=False)
def test_without_a_section_each_shows_its_first_rows_and_a_link_to_the_rest(
    busy, organizer, client
):
    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("followups_campaign", args=[busy.slug])).content.decode()

    assert page.count('class="fu"') == 10 + 3 + 2
    assert "All 120 overdue" in page and "?section=overdue" in page
    assert "Late000" in page and "Late010" not in page


@time_machine.travel(NOON, tick=False)
def test_a_section_is_paginated(busy, organizer, client):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("followups_campaign", args=[busy.slug])

    first = client.get(url, {"section": "overdue"}).content.decode()
    last = client.get(url, {"section": "overdue", "page": 3}).content.decode()

    assert first.count('class="fu"') == PAGE_SIZE
    assert "Page 1 of 3 (1–50 of 120)" in first and 'rel="next"' in first
    assert last.count('class="fu"') == 20 and "Late119" in last and "Late099" not in last
    # Beyond the last page: the last page, not an error.
    assert "Page 3 of 3" in client.get(url, {"section": "overdue", "page": 99}).content.decode()


@time_machine.travel(NOON, tick=False)
def test_search_and_sort(busy):
    found = followups_campaign_page(busy, q="late11", sort="-when")
    assert found.counts == {"today": 0, "overdue": 10, "upcoming": 0, "undated": 0}
    overdue = dict(found.sections)["overdue"]
    assert [row.person_name for row in overdue][:2] == ["Late119 Neighbor", "Late118 Neighbor"]

    found = followups_campaign_page(busy, section="undated", q="call back")
    assert [row.person_name for row in dict(found.sections)["undated"]] == [
        "Someday000 Neighbor",
        "Someday001 Neighbor",
    ]
    found = followups_campaign_page(busy, section="overdue", sort="person")
    assert dict(found.sections)["overdue"][0].person_name == "Late000 Neighbor"


@time_machine.travel(NOON, tick=False)
def test_bad_input_is_named(busy, organizer, client):
    client.login(username="olivia", password=PASSWORD)
    url = reverse("followups_campaign", args=[busy.slug])
    response = client.get(url, {"sort": "colour"})
    assert response.status_code == 400
    assert "“colour” is not a sort." in response.content.decode()
    response = client.get(url, {"section": "later"})
    assert response.status_code == 400 and "“later” is not a section" in response.content.decode()
    assert client.get(url, {"q": "x" * 101}).status_code == 400


@time_machine.travel(NOON, tick=False)
def test_the_number_of_queries_does_not_grow_with_the_commitments(campaign):
    def queries(section):
        with CaptureQueriesContext(connection) as captured:
            followups_campaign_page(campaign, section=section)
        return len(captured)

    _many(campaign, 5, days=-1, name="A")
    _many(campaign, 1, days=0, name="T")
    _many(campaign, 1, days=3, name="U")
    CommitmentFactory(campaign=campaign, when=None, phone="+15125550111")
    small = queries(""), queries("overdue")
    _many(campaign, 80, days=-1, name="B")
    _many(campaign, 30, days=2, name="C")
    assert (queries(""), queries("overdue")) == small
