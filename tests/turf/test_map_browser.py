"""The organizer's map in a real headless Chromium."""

import pytest

from tests.browser import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, HouseholdFactory, TurfFactory, TurfStopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror="__mapXss=1">'


def test_map_shows_a_hostile_voter_file_cell_as_text(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
):
    settings.MAP_TILES_URL = ""
    turf = TurfFactory(campaign=campaign, name='<b onmouseover="window.__mapXss=2">Elm</b>')
    household = HouseholdFactory(
        campaign=campaign,
        house_number="7",
        street="Elm Street",
        unit=HOSTILE,
        lat=30.26,
        lng=-97.73,
    )
    TurfStopFactory(turf=turf, household=household, position=1)

    log_in(page, live_server, organizer.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{campaign.slug}/map/")
    page.wait_for_function("document.getElementById('turf-map').dataset.householdCount === '1'")
    page.evaluate(
        """() => {
          const map = document.getElementById('turf-map').leafletMap;
          map.eachLayer(layer => {
            if (layer.getTooltip && layer.getTooltip()) layer.openTooltip();
            if (layer.getPopup && layer.getPopup()) layer.openPopup();
          });
        }"""
    )
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert HOSTILE in tooltip.inner_text()
    assert page.locator(".leaflet-tooltip img, .leaflet-popup img, .leaflet-popup b").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__mapXss") is None


def test_organizer_places_a_missed_household_by_clicking_the_map(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
):
    settings.MAP_TILES_URL = ""
    HouseholdFactory(campaign=campaign, house_number="1", street="Elm St", lat=30.26, lng=-97.73)
    missed = HouseholdFactory(
        campaign=campaign, house_number="5", street="Elm St", geocoder="census"
    )

    log_in(page, live_server, organizer.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{campaign.slug}/not-on-the-map/")
    page.get_by_role("link", name="Place or correct").click()
    page.wait_for_function("!!document.getElementById('household-map').leafletMap")
    box = page.locator("#household-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2)
    page.wait_for_function("document.getElementById('household-map').dataset.pinned === '1'")
    lat = float(page.locator("#id_place-lat").input_value())
    lng = float(page.locator("#id_place-lng").input_value())
    assert lat == pytest.approx(30.26, abs=0.001) and lng > -97.73
    page.get_by_role("button", name="Put it here").click()
    page.wait_for_url(f"**/c/{campaign.slug}/not-on-the-map/")
    assert "5 Elm St is on the map now." in page.content()

    missed.refresh_from_db()
    assert (missed.lat, missed.lng) == (pytest.approx(lat), pytest.approx(lng))
    assert missed.geocoder == "manual"
