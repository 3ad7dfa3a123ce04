"""The public signup on a phone and the check-in with its turf hand-out, in a real headless
Chromium at 360×640, axe clean. Each flow ends by counting rows on the server."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from canvass import services
from canvass.models import ShiftSignup, Volunteer
from tests.browser import browser, log_in, new_page  # noqa: F401 (fixtures)
from tests.factories import (
    PASSWORD,
    ShiftFactory,
    ShiftSignupFactory,
    TurfFactory,
    VolunteerFactory,
)
from turf.models import Assignment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_volunteer_signs_up_on_a_phone(phone, live_server, campaign, settings):
    settings.SITE_URL = live_server.url
    shift = ShiftFactory(
        campaign=campaign, name="Saturday canvass", capacity=4, notes="Bring water."
    )
    weeknight = ShiftFactory(campaign=campaign, name="Weeknight doors")

    phone.goto(f"{live_server.url}/join/{campaign.slug}/")
    assert phone.viewport_size == {"width": 360, "height": 640}
    phone.get_by_role("link", name="Saturday canvass").wait_for()
    assert fits_the_screen(phone) and serious_violations(phone) == []

    phone.get_by_role("link", name="Saturday canvass").click()
    phone.get_by_label("First name").fill("Dana")
    phone.get_by_label("Last name").fill("Whitfield")
    phone.get_by_label("Mobile phone").fill("555-01")
    phone.get_by_label("Text me reminders").check()
    phone.get_by_role("button", name="Sign me up").click()

    error = phone.locator("#id_phone-error")
    error.wait_for()
    assert "not a valid phone number" in error.inner_text()
    assert phone.get_by_label("Mobile phone").get_attribute("aria-invalid") == "true"
    assert phone.get_by_label("Last name").input_value() == "Whitfield"  # nothing lost
    assert phone.get_by_label("Text me reminders").is_checked()
    assert fits_the_screen(phone) and serious_violations(phone) == []
    assert not Volunteer.objects.exists()

    phone.get_by_label("Mobile phone").fill("512-555-0142")
    phone.get_by_role("button", name="Sign me up").click()
    phone.get_by_text("You are signed up").wait_for()
    link = phone.locator("#personal-link").input_value()
    assert link.startswith(f"{live_server.url}/s/")
    assert fits_the_screen(phone) and serious_violations(phone) == []

    phone.get_by_role("button", name="I'll be there").click()
    phone.get_by_text("Thanks for confirming").wait_for()
    signup = ShiftSignup.objects.get()
    assert signup.shift == shift and signup.status == ShiftSignup.Status.CONFIRMED
    assert signup.remind_by_sms and signup.volunteer.phone == "+15125550142"

    # Another time suits better: one tap on it, one on the button.
    phone.get_by_label("Weeknight doors").check()
    assert fits_the_screen(phone) and serious_violations(phone) == []
    phone.get_by_role("button", name="Move my signup").click()
    phone.get_by_text("You moved to this shift").wait_for()
    assert phone.locator("#personal-link").input_value() != link
    moved = ShiftSignup.objects.exclude(pk=signup.pk).get()
    assert moved.shift == weeknight and moved.remind_by_sms
    assert ShiftSignup.objects.get(pk=signup.pk).status == ShiftSignup.Status.CANCELLED


def test_the_signup_page_in_spanish(phone, live_server, campaign):
    ShiftFactory(campaign=campaign, name="Saturday canvass")
    phone.goto(f"{live_server.url}/join/{campaign.slug}/")
    phone.get_by_role("link", name="Español").click()
    phone.wait_for_function("document.documentElement.lang === 'es'")
    phone.get_by_role("link", name="English").click()
    phone.wait_for_function("document.documentElement.lang === 'en'")


def test_check_in_and_hand_a_pair_a_turf_on_a_phone(
    phone, live_server, campaign, organizer, settings
):
    settings.SITE_URL = live_server.url
    shift = ShiftFactory(campaign=campaign, name="Saturday canvass", capacity=5)
    turf = TurfFactory(campaign=campaign, name="Maple blocks", doors=3)
    shift.turfs.add(turf)
    ana = ShiftSignupFactory(
        shift=shift,
        volunteer=VolunteerFactory(campaign=campaign, first_name="Ana", last_name="Ruiz"),
    )
    bo = ShiftSignupFactory(
        shift=shift, volunteer=VolunteerFactory(campaign=campaign, first_name="Bo", last_name="Lee")
    )
    services.signup_check_in(signup=bo)

    log_in(phone, live_server, organizer.username, PASSWORD)
    phone.goto(f"{live_server.url}/c/{campaign.slug}/shifts/{shift.pk}/check-in/")
    assert fits_the_screen(phone) and serious_violations(phone) == []

    phone.get_by_role("button", name="Check in Ana Ruiz").click()
    phone.locator("#here").get_by_text("Ana Ruiz").wait_for()
    assert phone.locator("#here-count").inner_text() == "2"

    phone.get_by_role("link", name="Hand a turf to Ana Ruiz").click()
    phone.get_by_label("Maple blocks (3 doors)").check()
    phone.get_by_label("Bo Lee").check()
    assert fits_the_screen(phone) and serious_violations(phone) == []
    phone.get_by_role("button", name="Hand it out").click()

    qr = phone.locator("#assignment-qr svg")
    qr.wait_for()
    assert qr.bounding_box()["width"] >= 200
    link = phone.locator("#assignment-link").input_value()
    assert fits_the_screen(phone) and serious_violations(phone) == []

    assignment = Assignment.objects.get()
    assert assignment.shift == shift and assignment.turf == turf
    assert set(assignment.volunteers.all()) == {ana.volunteer, bo.volunteer}
    assert Assignment.objects.for_token(link.rstrip("/").rsplit("/", 1)[-1]).get() == assignment

    phone.get_by_role("link", name="Done: back to check-in").click()
    assert phone.locator("#here").get_by_text("Walking Maple blocks").count() == 2


def test_an_organizer_plans_a_shift_and_pins_its_staging_location(
    browser,  # noqa: F811
    live_server,
    campaign,
    organizer,
    settings,
):
    from datetime import timedelta

    from django.utils import timezone

    from canvass.models import Shift

    settings.MAP_TILES_URL = ""
    page = new_page(browser, "laptop")
    try:
        log_in(page, live_server, organizer.username, PASSWORD)
        page.goto(f"{live_server.url}/c/{campaign.slug}/shifts/new/")
        page.fill("#id_name", "Saturday canvass")
        page.fill("#id_date", (timezone.localdate() + timedelta(days=4)).isoformat())
        page.fill("#id_start_time", "10:00")
        page.fill("#id_end_time", "13:00")
        page.fill("#id_place", "Union hall, 12 Elm St")
        page.locator("#staging-map").click(position={"x": 200, "y": 150})
        page.wait_for_function("document.getElementById('id_place_lat').value !== ''")
        lat = float(page.input_value("#id_place_lat"))
        lng = float(page.input_value("#id_place_lng"))
        assert serious_violations(page) == []
        page.get_by_role("button", name="Save the shift").click()
        page.get_by_role("heading", name="Saturday canvass").wait_for()
        page.locator("#staging-map .leaflet-marker-icon").wait_for()
    finally:
        page.context.close()
    shift = Shift.objects.get()
    assert (round(shift.place_lat, 6), round(shift.place_lng, 6)) == (round(lat, 6), round(lng, 6))
    assert shift.local_start().strftime("%H:%M") == "10:00"
