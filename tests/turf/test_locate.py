"""Households not on the map: the dashboard says how many and lists them; an organizer
starts a geocoding run, places a household by hand, or corrects its address and retries."""

import pytest
from django.urls import reverse

from canvass.models import AuditEvent
from tests.factories import PASSWORD, HouseholdFactory, TurfFactory, TurfStopFactory
from tests.fake_census import grid_point
from turf import tasks
from turf.geocoding.fixes import household_address_correct, household_place
from turf.models import GeocodeCache, GeocodeJob, Household

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _house(campaign, number, street, **extra):
    return HouseholdFactory(
        campaign=campaign,
        house_number=str(number),
        street=street,
        city="Raleigh",
        state="NC",
        zip_code="27601",
        **extra,
    )


@pytest.fixture
def doors(campaign):
    """One door on the map, one waiting for the geocoder, one it did not find."""
    return {
        "located": _house(campaign, 1, "Elm St", lat=35.78, lng=-78.64, geocoder="file"),
        "pending": _house(campaign, 120, "Oak St"),
        "missed": _house(
            campaign,
            5,
            "Nowhere Ln",
            geocoder="census",
            location_quality=Household.Quality.FAILED,
            location_detail="No match for 5 Nowhere Ln",
        ),
    }


def test_overview_says_how_many_households_are_not_on_the_map(client, organizer, doors):
    campaign = doors["located"].campaign
    page = as_user(client, organizer).get(reverse("campaign_dashboard", args=[campaign.slug]))
    text = page.content.decode()
    assert "2 households are not on the map" in text
    assert "1 waiting for the geocoder, 1 not found" in text
    assert reverse("households_unlocated", args=[campaign.slug]) in text


def test_overview_says_nothing_when_every_door_is_on_the_map(client, organizer, campaign):
    _house(campaign, 1, "Elm St", lat=35.78, lng=-78.64)
    page = as_user(client, organizer).get(reverse("campaign_dashboard", args=[campaign.slug]))
    assert "not on the map" not in page.content.decode().replace("Not on the map", "")


def test_the_list_shows_each_household_not_on_the_map_and_why(client, organizer, doors):
    campaign = doors["located"].campaign
    turf = TurfFactory(campaign=campaign, name="Oak blocks")
    TurfStopFactory(turf=turf, household=doors["pending"], position=0)
    url = reverse("households_unlocated", args=[campaign.slug])

    text = as_user(client, organizer).get(url).content.decode()

    assert "2 households are not on the map" in text
    assert "120 Oak St" in text and "Waiting for the geocoder" in text and "Oak blocks" in text
    assert "5 Nowhere Ln" in text and "No match for 5 Nowhere Ln" in text
    assert "1 Elm St" not in text
    assert reverse("household_locate", args=[campaign.slug, doors["missed"].pk]) in text
    only_missed = client.get(url + "?show=not_found").content.decode()
    assert "5 Nowhere Ln" in only_missed and "120 Oak St" not in only_missed


def test_field_lead_sees_the_list_but_may_not_change_anything(client, field_lead, doors):
    campaign = doors["located"].campaign
    client = as_user(client, field_lead)
    text = client.get(reverse("households_unlocated", args=[campaign.slug])).content.decode()
    assert "120 Oak St" in text and "Locate now" not in text
    assert client.post(reverse("geocode_start", args=[campaign.slug])).status_code == 403
    fix = reverse("household_locate", args=[campaign.slug, doors["missed"].pk])
    assert client.post(fix, {"action": "place", "place-lat": 1, "place-lng": 2}).status_code == 403


def test_another_campaigns_organizer_sees_nothing(client, outsider, doors):
    campaign = doors["located"].campaign
    client = as_user(client, outsider)
    assert client.get(reverse("households_unlocated", args=[campaign.slug])).status_code == 404
    fix = reverse(
        "household_locate", args=[outsider.memberships.get().campaign.slug, doors["missed"].pk]
    )
    assert client.get(fix).status_code == 404


def test_locate_now_runs_the_geocoder_and_shows_progress(
    client, organizer, doors, fake_census, django_capture_on_commit_callbacks
):
    campaign = doors["located"].campaign
    client = as_user(client, organizer)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("geocode_start", args=[campaign.slug]), follow=True)
    assert "Locating 1 households" in response.content.decode()
    job = GeocodeJob.objects.get(campaign=campaign)
    status = client.get(reverse("geocode_status", args=[campaign.slug])).json()
    assert status["job"]["status"] == "pending" and status["counts"]["pending"] == 1

    tasks.geocode_job_run(job.pk)

    status = client.get(reverse("geocode_status", args=[campaign.slug])).json()
    assert status["job"] | {"id": None} == status["job"] | {
        "id": None,
        "status": "done",
        "percent": 100,
        "located": 1,
        "not_found": 0,
    }
    assert status["counts"] == {"unlocated": 1, "pending": 0, "not_found": 1}
    doors["pending"].refresh_from_db()
    assert (doors["pending"].lng, doors["pending"].lat) == pytest.approx(grid_point("Oak St", 120))


def test_locate_now_with_nothing_waiting_says_what_to_do_instead(client, organizer, campaign):
    _house(campaign, 5, "Nowhere Ln", geocoder="census", location_quality="failed")
    response = as_user(client, organizer).post(
        reverse("geocode_start", args=[campaign.slug]), follow=True
    )
    assert "No household is waiting for the geocoder" in response.content.decode()
    assert not GeocodeJob.objects.exists()


# --- By hand --------------------------------------------------------------------


def test_place_a_household_on_the_map_by_hand(client, organizer, doors):
    missed = doors["missed"]
    url = reverse("household_locate", args=[missed.campaign.slug, missed.pk])
    client = as_user(client, organizer)
    assert 'id="household-map"' in client.get(url).content.decode()

    response = client.post(
        url, {"action": "place", "place-lat": "35.7801", "place-lng": "-78.6402"}
    )

    assert response.status_code == 302
    missed.refresh_from_db()
    assert (missed.lat, missed.lng, missed.geocoder) == (35.7801, -78.6402, "manual")
    assert missed.location_quality == Household.Quality.EXACT
    event = AuditEvent.objects.get(action="household.place")
    assert event.actor == organizer and event.target == f"household:{missed.pk}"
    # Placed by hand is this campaign's own: nothing goes to the shared cache.
    assert not GeocodeCache.objects.exists()


@pytest.mark.parametrize(
    ("lat", "lng", "message"),
    [("91", "-78", "Ensure this value is less than or equal to 90"), ("x", "1", "Enter a number")],
)
def test_a_bad_place_is_refused_and_changes_nothing(client, organizer, doors, lat, lng, message):
    missed = doors["missed"]
    url = reverse("household_locate", args=[missed.campaign.slug, missed.pk])
    response = as_user(client, organizer).post(
        url, {"action": "place", "place-lat": lat, "place-lng": lng}
    )
    assert response.status_code == 200 and message in response.content.decode()
    missed.refresh_from_db()
    assert missed.lat is None and missed.geocoder == "census"


def test_the_place_service_refuses_what_is_not_a_coordinate(doors):
    from django.core.exceptions import ValidationError

    for lat, lng in [("nan", 1), (10, 181), (None, 1)]:
        with pytest.raises(ValidationError):
            household_place(household=doors["missed"], lat=lat, lng=lng)
    doors["missed"].refresh_from_db()
    assert doors["missed"].lat is None


def test_correct_the_address_and_it_is_looked_up_at_once(client, organizer, doors, fake_census):
    missed = doors["missed"]
    url = reverse("household_locate", args=[missed.campaign.slug, missed.pk])
    form = {
        "action": "address",
        "address-house_number": "50",
        "address-street": "Maple  Ave",
        "address-city": "Raleigh",
        "address-state": "NC",
        "address-zip_code": "27601",
    }

    response = as_user(client, organizer).post(url, form, follow=True)

    assert "50 Maple Ave is on the map now (exact)" in response.content.decode()
    missed.refresh_from_db()
    assert (missed.house_number, missed.street) == ("50", "Maple Ave")
    assert (missed.lng, missed.lat) == pytest.approx(grid_point("Maple Ave", 50))
    assert missed.geocoder == "census" and missed.address_parts["name"].upper() == "MAPLE"
    assert missed.address_key.startswith("50 MAPLE AVE")
    assert GeocodeCache.objects.filter(key__startswith="50 MAPLE AVE").exists()
    assert fake_census.requests == 1
    event = AuditEvent.objects.get(action="household.address_correct")
    assert event.detail["before"]["street"] == "Nowhere Ln"


def test_a_corrected_address_the_geocoder_still_misses_stays_to_be_placed(
    organizer, doors, fake_census
):
    household = household_address_correct(
        household=doors["missed"],
        house_number="7",
        street="Twin Oaks Dr",
        city="Raleigh",
        zip_code="27601",
        corrected_by=organizer,
    )
    assert household.lat is None and household.geocoder == "census"
    assert "tie" in household.location_detail.lower()


def test_a_corrected_address_waits_when_the_geocoder_cannot_be_reached(doors):
    # The autouse settings point the geocoder at a port where nothing listens.
    household = household_address_correct(
        household=doors["missed"], house_number="8", street="Pine St", zip_code="27601"
    )
    assert household.street == "Pine St" and household.lat is None
    assert household.geocoder == "" and "did not answer" in household.location_detail
    # It is waiting again, so the next run looks it up.
    assert Household.objects.filter(pk=household.pk, geocoder="").exists()


def test_a_correction_to_another_households_address_is_refused(client, organizer, doors):
    from django.core.exceptions import ValidationError

    other = doors["pending"]
    other.address_key = "120 OAK ST 27601"
    other.save()
    with pytest.raises(ValidationError, match="already has that address"):
        household_address_correct(
            household=doors["missed"], house_number="120", street="Oak St", zip_code="27601"
        )
    doors["missed"].refresh_from_db()
    assert doors["missed"].street == "Nowhere Ln"


def test_an_address_without_a_street_is_refused_with_the_reason(client, organizer, doors):
    missed = doors["missed"]
    url = reverse("household_locate", args=[missed.campaign.slug, missed.pk])
    response = as_user(client, organizer).post(
        url, {"action": "address", "address-house_number": "12", "address-street": "#4"}
    )
    assert response.status_code == 200
    assert "That address cannot be read" in response.content.decode()
    missed.refresh_from_db()
    assert missed.street == "Nowhere Ln"
