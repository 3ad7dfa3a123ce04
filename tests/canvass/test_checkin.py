"""The check-in screen, walk-ins and the turf hand-out, through the test client."""

import re

import pytest
from django.urls import reverse

from canvass import services
from canvass.models import ShiftSignup, Volunteer
from tests.factories import (
    PASSWORD,
    ShiftFactory,
    ShiftSignupFactory,
    TurfFactory,
    VolunteerFactory,
)
from turf.models import Assignment

pytestmark = pytest.mark.django_db
Status = ShiftSignup.Status


@pytest.fixture
def staging(client, campaign, organizer):
    shift = ShiftFactory(campaign=campaign, name="Saturday canvass", capacity=3)
    turf = TurfFactory(campaign=campaign, name="Maple blocks", doors=3)
    shift.turfs.add(turf)
    ana = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Ana")
    )
    bo = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Bo")
    )
    assert client.login(username=organizer.username, password=PASSWORD)
    return {"shift": shift, "turf": turf, "ana": ana, "bo": bo, "slug": campaign.slug}


def text(response):
    """The page's words, tags dropped."""
    words = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", words)


def test_one_tap_checks_in_and_another_undoes_it(client, staging):
    shift, ana = staging["shift"], staging["ana"]
    url = reverse("shift_checkin", args=[staging["slug"], shift.pk])
    page = text(client.get(url))
    assert "Ana Canvasser" in page and "0 here" in page

    tap = reverse("shift_checkin_tap", args=[staging["slug"], shift.pk, ana.pk])
    response = client.post(tap)
    assert response.status_code == 302 and response["Location"].endswith(f"#signup-{ana.pk}")
    assert ShiftSignup.objects.get(pk=ana.pk).status == Status.ATTENDED
    assert "1 here" in text(client.get(url))

    client.post(tap, {"action": "undo"})
    assert ShiftSignup.objects.get(pk=ana.pk).status == Status.SIGNED_UP


def test_a_walk_in_with_a_bad_phone_is_told_and_nothing_is_added(client, staging):
    shift = staging["shift"]
    url = reverse("shift_walk_in", args=[staging["slug"], shift.pk])
    response = client.post(url, {"first_name": "Sam", "phone": "12"})
    assert response.status_code == 400
    assert "is not a valid phone number" in text(response)
    assert 'value="Sam"' in response.content.decode()
    assert not Volunteer.objects.filter(first_name="Sam").exists()

    response = client.post(url, {"first_name": "Sam", "phone": "512-555-0177"}, follow=True)
    assert "Sam Canvasser" not in text(response)
    signup = ShiftSignup.objects.get(volunteer__first_name="Sam")
    assert signup.status == Status.ATTENDED and signup.source == ShiftSignup.Source.WALK_IN
    assert "Sam" in text(client.get(reverse("shift_checkin", args=[staging["slug"], shift.pk])))


def test_a_pair_gets_a_turf_from_the_pool_with_its_link_and_qr(client, staging, settings):
    shift, ana, bo, turf = staging["shift"], staging["ana"], staging["bo"], staging["turf"]
    for signup in (ana, bo):
        services.signup_check_in(signup=signup)
    url = reverse("shift_hand_out", args=[staging["slug"], shift.pk])
    form = text(client.get(url, {"volunteer": ana.volunteer_id}))
    assert "A turf for Ana" in form and "Maple blocks (3 doors)" in form

    response = client.post(
        url, {"volunteer": ana.volunteer_id, "partner": bo.volunteer_id, "turf": turf.pk}
    )
    assert response.status_code == 200
    assignment = Assignment.objects.get()
    assert assignment.shift == shift and set(assignment.volunteers.all()) == {
        ana.volunteer,
        bo.volunteer,
    }
    link = response.context["link"]
    assert Assignment.objects.for_token(link.rstrip("/").rsplit("/", 1)[-1]).get() == assignment
    assert "<svg" in response.content.decode() and response["Cache-Control"].startswith("max-age=0")

    page = text(client.get(reverse("shift_checkin", args=[staging["slug"], shift.pk])))
    assert page.count("Walking Maple blocks") == 2


def test_a_turf_for_someone_not_checked_in_is_refused(client, staging):
    shift, ana, turf = staging["shift"], staging["ana"], staging["turf"]
    url = reverse("shift_hand_out", args=[staging["slug"], shift.pk])
    response = client.post(url, {"volunteer": ana.volunteer_id, "turf": turf.pk})
    assert response.status_code == 400
    assert "Check them in first" in text(response)
    services.signup_check_in(signup=staging["bo"])
    response = client.post(
        url, {"volunteer": staging["bo"].volunteer_id, "partner": ana.volunteer_id, "turf": turf.pk}
    )
    assert response.status_code == 400 and "Check them in first" in text(response)
    assert not Assignment.objects.exists()


def test_checking_in_on_a_full_shift_says_what_to_do(client, staging, campaign):
    shift = staging["shift"]
    ShiftSignupFactory(shift=shift)
    waiting = ShiftSignupFactory(shift=shift)
    assert waiting.status == Status.WAITLISTED
    tap = reverse("shift_checkin_tap", args=[staging["slug"], shift.pk, waiting.pk])
    page = text(client.post(tap, follow=True))
    assert "This shift is full (3 of 3 spots taken). Raise its capacity" in page
    assert ShiftSignup.objects.get(pk=waiting.pk).status == Status.WAITLISTED
