"""Walk-sheet packets as PDF, read back with pypdf: pages, headers, walk order, the link."""

import io
import re

import pypdf
import pytest
from django.urls import reverse

from canvass.models import AuditEvent
from tests.factories import (
    PASSWORD,
    HouseholdFactory,
    PersonFactory,
    ShiftFactory,
    TurfFactory,
    TurfStopFactory,
    VolunteerFactory,
)
from turf.paper import DOORS_PER_PAGE
from turf.services import assignment_create, assignment_link

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def pages_of(response):
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def turf_with_doors(campaign, name, doors, *, located=True):
    turf = TurfFactory(campaign=campaign, name=name)
    for i in range(doors):
        extra = {"lat": 30.26 + i * 0.0001, "lng": -97.73} if located else {}
        household = HouseholdFactory(
            campaign=campaign, house_number=str(1001 + 2 * i), street=f"{name} Street", **extra
        )
        TurfStopFactory(turf=turf, household=household, position=i)
        if i == 0:
            PersonFactory(
                campaign=campaign, household=household, first_name="Rosa", last_name="Diaz"
            )
    return turf


@pytest.fixture
def shift_packet(campaign, volunteer, organizer):
    shift = ShiftFactory(campaign=campaign, name="Saturday morning")
    partner = VolunteerFactory(campaign=campaign, first_name="Sam", last_name="Okafor")
    elm = turf_with_doors(campaign, "Elm", 60)
    oak = turf_with_doors(campaign, "Oak", 10, located=False)
    elm_link = assignment_create(turf=elm, volunteers=[volunteer], shift=shift)
    oak_link = assignment_create(turf=oak, volunteers=[partner], shift=shift)
    # A turf with a link for another shift stays out of this packet.
    assignment_create(
        turf=turf_with_doors(campaign, "Pine", 3),
        volunteers=[volunteer],
        shift=ShiftFactory(campaign=campaign, name="Sunday"),
    )
    return shift, {"Elm": elm_link, "Oak": oak_link}


def test_a_shifts_packet_has_each_turfs_cover_and_doors_numbered_per_turf(
    client, organizer, campaign, shift_packet
):
    shift, links = shift_packet
    url = reverse("shift_sheets_pdf", args=[campaign.slug, shift.pk])

    pages = pages_of(as_user(client, organizer).get(url))

    # Elm: a cover and 60 doors at 25 a page (3 pages); Oak: a cover and one page.
    elm_pages = 1 + -(-60 // DOORS_PER_PAGE)
    assert len(pages) == elm_pages + 2
    for i, text in enumerate(pages[:elm_pages], start=1):
        assert f"page {i} of {elm_pages}" in text
        assert "Elm · Vera Lopez · Saturday morning" in text
    for i, text in enumerate(pages[elm_pages:], start=1):
        assert f"page {i} of 2" in text and "Oak · Sam Okafor" in text
    assert not any("Pine" in text for text in pages)

    cover = pages[0]
    assert campaign.rating_question in cover
    for code, label in [("C", "Conversation"), ("N", "Not home"), ("R", "Refused")]:
        assert re.search(rf"\b{code} {label}\b", cover), code
    assert assignment_link(links["Elm"][1]) in cover.replace(" ", "")
    assert "The walk starts at the red ring" in cover

    # The doors in walk order, numbered through the turf's pages, 25 a page.
    first = pages[1]
    assert "1 1001 Elm Street" in first and "Rosa Diaz" in first
    assert "25 1049 Elm Street" in first and "26 1051" not in first
    assert "26 1051 Elm Street" in pages[2]
    assert "60 1119 Elm Street" in pages[3]
    for header in ("Result", "Before", "After", "Commit."):
        assert header in first

    # A turf off the map says how to walk it instead of drawing a map.
    oak_cover = pages[elm_pages]
    assert "not on the map: walk them by street and house number" in oak_cover
    assert "Oak Street 1001–1019 (10)" in oak_cover
    assert AuditEvent.objects.filter(action="walk_sheets.print", actor=organizer).exists()


def test_one_turfs_sheets_and_a_field_lead_gets_no_link(client, field_lead, campaign, shift_packet):
    shift, links = shift_packet
    elm = links["Elm"][0].turf
    pages = pages_of(
        as_user(client, field_lead).get(reverse("turf_sheets_pdf", args=[campaign.slug, elm.pk]))
    )
    assert len(pages) == 4
    assert assignment_link(links["Elm"][1]) not in "".join(pages).replace(" ", "")
    assert "No link to print" in pages[0]


def test_a_shift_with_no_turf_assigned_says_so(client, organizer, campaign):
    shift = ShiftFactory(campaign=campaign, name="Empty shift")
    response = as_user(client, organizer).get(
        reverse("shift_sheets_pdf", args=[campaign.slug, shift.pk])
    )
    assert response.status_code == 404
    assert "assign turfs for the shift first" in response.content.decode()


def test_another_campaign_cannot_print(client, outsider, campaign, shift_packet):
    shift, links = shift_packet
    client = as_user(client, outsider)
    assert (
        client.get(reverse("shift_sheets_pdf", args=[campaign.slug, shift.pk])).status_code == 404
    )
    own = outsider.memberships.get().campaign.slug
    turf = links["Elm"][0].turf
    assert client.get(reverse("turf_sheets_pdf", args=[own, turf.pk])).status_code == 404
