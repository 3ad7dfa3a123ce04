"""Editing turf on the organizer's map, in a real headless Chromium: draw, click, move."""

import pytest

from conversations.models import Visit
from tests.browser import browser, log_in, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, HouseholdFactory, TurfFactory, TurfStopFactory, VisitFactory
from turf.models import Turf, TurfStop
from turf.services import assignment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAT, LNG = 30.26, -97.73
STEP = 0.0004


def street(campaign, turf, numbers, *, row):
    doors = []
    for position, number in enumerate(numbers):
        household = HouseholdFactory(
            campaign=campaign,
            house_number=str(number),
            street="Elm St" if row == 0 else "Oak St",
            lat=LAT + row * STEP * 6 + (0 if number % 2 else STEP),
            lng=LNG + (number % 100) * STEP,
        )
        TurfStopFactory(turf=turf, household=household, position=position)
        doors.append(household)
    return doors


def screen_point(tab, lat, lng):
    """Where (lat, lng) is on the screen, from the page's Leaflet map."""
    point = tab.evaluate(
        """([lat, lng]) => {
          const map = document.getElementById('turf-map').leafletMap;
          const p = map.latLngToContainerPoint([lat, lng]);
          return [p.x, p.y];
        }""",
        [lat, lng],
    )
    box = tab.locator("#turf-map").bounding_box()
    return box["x"] + point[0], box["y"] + point[1]


def open_map(tab, live_server, organizer, campaign, households):
    log_in(tab, live_server, organizer.username, PASSWORD)
    tab.goto(f"{live_server.url}/c/{campaign.slug}/map/")
    tab.wait_for_function(
        f"document.getElementById('turf-map').dataset.householdCount === '{households}'"
    )
    tab.wait_for_function("document.getElementById('turf-edit').dataset.ready === '1'")
    # The whole map on the screen: the mouse clicks at points on it.
    tab.locator("#turf-map").evaluate("el => el.scrollIntoView({block: 'center'})")


def doors_in_table(tab):
    rows = tab.locator("#edit-turfs tr")
    return {
        rows.nth(i).locator("td").nth(1).inner_text(): int(
            rows.nth(i).locator("td.doors").inner_text()
        )
        for i in range(rows.count())
    }


def test_organizer_draws_an_outline_and_makes_a_turf_of_the_doors_inside(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
):
    settings.MAP_TILES_URL = ""
    elm = TurfFactory(campaign=campaign, name="Elm")
    doors = street(campaign, elm, [1, 3, 5, 7, 2, 4], row=0)
    open_map(page, live_server, organizer, campaign, 6)
    assert doors_in_table(page) == {"Elm": 6}

    # An outline around 1, 3 and 5 (the odd side's first three doors), drawn corner by corner.
    pad = STEP / 3
    west, east = doors[0].lng - pad, doors[2].lng + pad
    south, north = doors[0].lat - pad, doors[0].lat + pad
    page.locator("a.leaflet-draw-draw-polygon").click()
    for lat, lng in ((south, west), (south, east), (north, east), (north, west)):
        page.mouse.click(*screen_point(page, lat, lng))
        page.wait_for_timeout(150)
    page.mouse.click(*screen_point(page, south, west))  # back on the first corner closes it
    page.wait_for_function("document.getElementById('turf-map').dataset.picked === '3'")
    assert "3 doors picked: 3 of the 6 on “Elm”." in page.locator("#edit-pick").inner_text()
    assert page.locator("#edit-turfs tr", has_text="Elm").locator("td.picked").inner_text() == "3"

    page.fill("#edit-new-name", "Elm odd")
    page.get_by_role("button", name="Make a turf of the picked doors").click()
    page.locator("#edit-message", has_text="Made “Elm odd” of 3 doors.").wait_for()
    assert doors_in_table(page) == {"Elm": 3, "Elm odd": 3}
    assert page.locator("#edit-pick").inner_text() == "No doors picked."

    made = Turf.objects.get(name="Elm odd")
    assert set(TurfStop.objects.filter(turf=made).values_list("household", flat=True)) == {
        d.pk for d in doors[:3]
    }
    # The map was drawn again: those doors now wear the new turf's colour.
    page.wait_for_function("document.getElementById('turf-map').dataset.picked === '0'")


def test_organizer_moves_clicked_doors_off_an_assigned_turf_after_confirming(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
    volunteer,
):
    settings.MAP_TILES_URL = ""
    elm = TurfFactory(campaign=campaign, name="Elm")
    oak = TurfFactory(campaign=campaign, name="Oak")
    elm_doors = street(campaign, elm, [1, 3, 5], row=0)
    street(campaign, oak, [1, 3], row=1)
    link, _token = assignment_create(turf=elm, volunteers=[volunteer], created_by=organizer)
    visit = VisitFactory(campaign=campaign, household=elm_doors[2], assignment=link)
    open_map(page, live_server, organizer, campaign, 5)

    # Click 3 and 5 Elm St on the map; a second click on 3 takes it out, a third puts it back.
    for household, picked in ((elm_doors[1], 1), (elm_doors[2], 2), (elm_doors[1], 1)):
        page.mouse.click(*screen_point(page, household.lat, household.lng))
        page.wait_for_function(f"document.getElementById('turf-map').dataset.picked === '{picked}'")
    page.mouse.click(*screen_point(page, elm_doors[1].lat, elm_doors[1].lng))
    page.wait_for_function("document.getElementById('turf-map').dataset.picked === '2'")
    assert "(handed out)" in page.locator("#edit-pick").inner_text()

    page.select_option("#edit-move-to", label="Oak (2)")
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        # The first time the organizer thinks again; the second time they go ahead.
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Move the picked doors").click()
    page.wait_for_function("document.getElementById('edit-message').textContent === ''")
    assert len(asked) == 1 and "“Elm” is already handed out" in asked[0]
    assert doors_in_table(page) == {"Elm": 3, "Oak": 2}

    page.get_by_role("button", name="Move the picked doors").click()
    page.locator("#edit-message", has_text="Moved 2 doors to “Oak”.").wait_for()
    assert len(asked) == 2
    assert doors_in_table(page) == {"Elm": 1, "Oak": 4}

    assert TurfStop.objects.filter(turf=oak).count() == 4
    visit.refresh_from_db()
    assert visit.assignment_id == link.pk and visit.household_id == elm_doors[2].pk
    assert Visit.objects.count() == 1


def test_organizer_merges_two_turfs_and_splits_one(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
):
    settings.MAP_TILES_URL = ""
    elm = TurfFactory(campaign=campaign, name="Elm")
    oak = TurfFactory(campaign=campaign, name="Oak")
    street(campaign, elm, [1, 3, 2, 4], row=0)
    street(campaign, oak, [1, 3], row=1)
    open_map(page, live_server, organizer, campaign, 6)

    page.get_by_role("checkbox", name="Oak").check()
    page.get_by_role("checkbox", name="Elm").check()
    page.get_by_role("button", name="Merge the ticked turfs into “Oak”").click()
    page.locator("#edit-message", has_text="Merged 2 turfs into “Oak”.").wait_for()
    assert doors_in_table(page) == {"Oak": 6}

    page.locator("#edit-turfs tr", has_text="Oak").get_by_role(
        "button", name="Split in two"
    ).click()
    page.locator("#edit-message", has_text="“Oak (2)” is new.").wait_for()
    table = doors_in_table(page)
    assert sorted(table) == ["Oak", "Oak (2)"] and sum(table.values()) == 6


def test_with_whole_block_faces_one_click_picks_the_side_of_the_block(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
):
    settings.MAP_TILES_URL = ""
    elm = TurfFactory(campaign=campaign, name="Elm")
    oak = TurfFactory(campaign=campaign, name="Oak")
    doors = street(campaign, elm, [1, 3, 5, 2, 4], row=0)
    street(campaign, oak, [1], row=1)
    open_map(page, live_server, organizer, campaign, 6)

    page.get_by_label("Take whole block faces").check()
    page.mouse.click(*screen_point(page, doors[1].lat, doors[1].lng))
    page.wait_for_function("document.getElementById('turf-map').dataset.picked === '3'")
    page.select_option("#edit-move-to", label="Oak (1)")
    page.get_by_role("button", name="Move the picked doors").click()
    page.locator("#edit-message", has_text="Moved 3 doors to “Oak”.").wait_for()
    assert doors_in_table(page) == {"Elm": 2, "Oak": 4}
    moved = set(TurfStop.objects.filter(turf=oak).values_list("household__house_number", flat=True))
    assert {"1", "3", "5"} <= moved and not moved & {"2", "4"}
