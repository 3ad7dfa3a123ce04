"""The assign flow in a real headless Chromium: an organizer logs in, assigns a turf
for a shift, the volunteer's phone opens the link, and the organizer turns it off."""

import pytest

from tests.browser import browser, log_in, new_page, page  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, HouseholdFactory, PersonFactory, TurfFactory, TurfStopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def walkable_turf(campaign):
    turf = TurfFactory(campaign=campaign, name="Juniper blocks")
    for position, number in enumerate(["301", "305", "309"], start=1):
        household = HouseholdFactory(
            campaign=campaign,
            house_number=number,
            street="Juniper Street",
            lat=30.26 + position * 0.0004,
            lng=-97.73,
        )
        TurfStopFactory(turf=turf, household=household, position=position)
        if position == 2:
            PersonFactory(
                campaign=campaign, household=household, first_name="Ana", last_name="Ruiz"
            )
    return turf


def test_organizer_assigns_a_turf_and_revokes_its_link(
    page,  # noqa: F811
    browser,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
    volunteer,
    walkable_turf,
):
    from tests.factories import ShiftFactory

    shift = ShiftFactory(campaign=campaign, name="Saturday morning canvass")
    settings.SITE_URL = live_server.url

    log_in(page, live_server, organizer.username, PASSWORD)
    page.click(f"text={campaign.name}")
    page.wait_for_url(f"{live_server.url}/c/{campaign.slug}/")
    assert page.locator("h1").inner_text() == "Overview"

    page.click("nav.dash-nav >> text=Assign")
    page.select_option("select[name=turf]", label="Juniper blocks (3 doors, open)")
    page.select_option("select[name=volunteer]", label="Vera Lopez")
    page.select_option("select[name=shift]", value=str(shift.pk))
    page.click("#assign-form button[type=submit]")

    page.wait_for_selector("#assignment-qr svg")
    link = page.input_value("#assignment-link")
    assert link.startswith(f"{live_server.url}/a/")
    assert page.locator("#assignment-qr svg").bounding_box()["width"] >= 100
    assert "Juniper blocks is assigned" in page.locator("h1").inner_text()

    phone = new_page(browser, "phone")
    try:
        phone.goto(link)
        assert phone.viewport_size == {"width": 360, "height": 640}
        # The door screen may draw the walk list from its own script: wait for it.
        phone.get_by_text("305 Juniper Street").first.wait_for()
        walk_list = phone.locator("body").inner_text()
        assert "Juniper blocks" in walk_list
        assert "Ana Ruiz" in walk_list
        assert walk_list.index("301 Juniper Street") < walk_list.index("309 Juniper Street")

        page.click("#revoke-link")
        page.wait_for_url(f"{live_server.url}/c/{campaign.slug}/turfs/{walkable_turf.pk}/")
        assert "Turned off" in page.locator("body").inner_text()

        phone.reload()
        phone.get_by_text("This link has ended").first.wait_for()
        # And the server itself answers the link with 410 Gone.
        assert phone.request.get(link).status == 410
    finally:
        phone.context.close()


def test_turf_list_progress_refreshes_without_reloading(
    page,  # noqa: F811
    live_server,
    organizer,
    campaign,
    volunteer,
    walkable_turf,
):
    from tests.factories import VisitFactory
    from turf.services import assignment_create

    assignment, _ = assignment_create(turf=walkable_turf, volunteers=[volunteer])
    log_in(page, live_server, organizer.username, PASSWORD)
    # The page's clock is the test's, so the 15-second poll need not be waited for.
    page.clock.install()
    page.goto(f"{live_server.url}/c/{campaign.slug}/turfs/")
    cell = page.locator(f"tr[data-turf-id='{walkable_turf.pk}'] .progress-text")
    assert cell.inner_text() == "0 / 3"

    VisitFactory(
        campaign=campaign,
        household=walkable_turf.households.first(),
        assignment=assignment,
        outcome="conversation",
    )

    page.clock.run_for(16_000)
    page.wait_for_function(
        f"document.querySelector(\"tr[data-turf-id='{walkable_turf.pk}'] .progress-text\")"
        ".textContent === '1 / 3'"
    )
    conversations = page.locator(
        f"tr[data-turf-id='{walkable_turf.pk}'] [data-field=conversations]"
    )
    assert conversations.inner_text() == "1"


@pytest.mark.parametrize(
    "tiles",
    ["", "http://127.0.0.1:9/{z}/{x}/{y}.png"],
    ids=["no tile server", "tile server unreachable"],
)
def test_map_draws_households_and_outlines_without_tiles(
    page,  # noqa: F811
    live_server,
    settings,
    organizer,
    campaign,
    walkable_turf,
    tiles,
):
    settings.MAP_TILES_URL = tiles
    log_in(page, live_server, organizer.username, PASSWORD)
    page.goto(f"{live_server.url}/c/{campaign.slug}/map/")
    page.wait_for_selector("#turf-map[data-household-count]")
    counts = page.eval_on_selector(
        "#turf-map", "el => [el.dataset.turfCount, el.dataset.householdCount]"
    )
    assert counts == ["1", "3"]
    # Leaflet drew on its canvas: the map is live, not an empty box.
    assert page.locator("#turf-map canvas").count() >= 1
    assert page.locator("#turf-map .leaflet-tile-loaded").count() == 0
