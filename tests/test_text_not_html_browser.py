"""A voter file's cells, a volunteer's name and a canvasser's words are text on every
screen, never markup: the door screen and every page an organizer opens, in a real
headless Chromium.

The pages are opened with the Content-Security-Policy switched off (`bypass_csp`), so the
policy's ban on inline handlers cannot hide markup that the page itself wrote: a payload
that became an element would run here, and the test would see it.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from canvass.models import Membership
from conversations.models import Commitment, InboundSms
from tests.browser import browser, new_page  # noqa: F401 (fixtures)
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    HouseholdFactory,
    MembershipFactory,
    PersonFactory,
    ShiftFactory,
    ShiftSignupFactory,
    StoryNoteFactory,
    TurfFactory,
    TurfStopFactory,
    UserFactory,
    VisitFactory,
    VolunteerFactory,
)
from tests.test_authorization import ALLOWED, RULES, url_patterns
from turf.services import assignment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = "<img src=x onerror=window.__xss=1>"
# Any element the payload could have become, and whether its handler ran.
HARMED = """() => ({
  ran: window.__xss !== undefined,
  elements: document.querySelectorAll('img[src="x"], img[onerror], [onerror]').length,
})"""
SAFE = {"ran": False, "elements": 0}

# Pages that are files, not screens (a PDF, GeoJSON, a download) or answer POST only.
NOT_SCREENS = {
    "turfs_geojson",
    "households_geojson",
    "turf_progress",
    "export_job_status",
    "export_download",
    "import_status",
    "geocode_status",
    "turf_sheets_pdf",
    "shift_sheets_pdf",
    "walk_sheet",
    "signup_qr",
}
# Pages that list only what was asked for.
QUERIES = {"people_list": "?q=onerror"}


def _hostile_campaign():
    """A campaign in which every value a person can type or a voter file can carry is XSS."""
    campaign = CampaignFactory(
        name="Eastside Tenants United",
        slug="eastside-tenants",
        story_themes=["Housing", XSS],
    )
    organizer = UserFactory(username="olivia", first_name=XSS)
    MembershipFactory(user=organizer, campaign=campaign, role=Membership.Role.ORGANIZER)
    volunteer = VolunteerFactory(campaign=campaign, first_name=XSS, last_name=XSS)
    shift = ShiftFactory(campaign=campaign, name=XSS, place=XSS)
    ShiftSignupFactory(shift=shift, volunteer=volunteer)
    turf = TurfFactory(campaign=campaign, name=XSS)
    household = HouseholdFactory(
        campaign=campaign,
        house_number="7",
        street=XSS,
        unit=XSS,
        precinct="12",
        lat=30.26,
        lng=-97.73,
    )
    TurfStopFactory(turf=turf, household=household, position=1)
    person = PersonFactory(campaign=campaign, household=household, first_name=XSS, last_name=XSS)
    visit = VisitFactory(
        campaign=campaign,
        household=household,
        person=person,
        volunteer=volunteer,
        note=XSS,
        happened_at=timezone.now() - timedelta(days=2),
    )
    StoryNoteFactory(visit=visit, themes=[XSS], why=XSS, story=XSS, values_feelings=XSS)
    commitment = Commitment.objects.create(
        campaign=campaign,
        visit=visit,
        person=person,
        kind="meeting",
        what=XSS,
        owner=organizer,
        when=timezone.now() + timedelta(days=3),
    )
    InboundSms.objects.create(
        provider_id="SM-xss",
        from_number="+15125550188",
        body=XSS,
        handled_as=InboundSms.Handling.OTHER,
        campaign=campaign,
    )
    assignment, token = assignment_create(
        turf=turf, volunteers=[volunteer], shift=shift, created_by=organizer
    )
    return {
        "campaign": campaign,
        "organizer": organizer,
        "token": token,
        "pk": {
            "person_detail": person.pk,
            "followup_mark": commitment.pk,
            "paper_entry": assignment.pk,
            "assignment_link": assignment.pk,
            "assignment_link_send": assignment.pk,
            "household_locate": household.pk,
            "reply_answer": InboundSms.objects.get(provider_id="SM-xss").pk,
        },
        "ids": {"slug": campaign.slug, "turf_id": turf.pk, "shift_id": shift.pk},
        "shift_pk": shift.pk,
    }


def _organizer_screens(world):
    """(name, url) of every page an organizer opens with a GET and no object of its own
    beyond those the hostile campaign has."""
    for name, pattern in url_patterns():
        if name in NOT_SCREENS or "organizer" not in ALLOWED.get(RULES.get(name), set()):
            continue
        kwargs = {}
        for key in pattern.pattern.converters:
            if key == "slug":
                kwargs[key] = world["ids"]["slug"]
            elif key == "pk":
                kwargs[key] = world["pk"].get(name, world["shift_pk"])
            elif key in world["ids"]:
                kwargs[key] = world["ids"][key]
            else:
                break
        else:
            yield name, reverse(name, kwargs=kwargs) + QUERIES.get(name, "")


def test_the_door_screen_shows_voter_file_values_as_text(browser, live_server):  # noqa: F811
    world = _hostile_campaign()
    page = new_page(browser, "phone", bypass_csp=True)
    try:
        page.goto(live_server.url + reverse("assignment_open", args=[world["token"]]))
        page.wait_for_selector("li.door")
        door = page.locator("li.door").first
        # Street, unit, the person's name and an earlier visit's theme, each as it was typed.
        assert door.inner_text().count(XSS) >= 3, door.inner_text()
        assert page.evaluate(HARMED) == SAFE

        door.get_by_role("button", name="Conversation").click()
        form = page.locator("form.story")
        form.wait_for()
        # The campaign's themes and the people at the door are choices, shown as text.
        assert XSS in form.inner_text()
        page.wait_for_timeout(300)
        assert page.evaluate(HARMED) == SAFE
    finally:
        page.context.close()


def test_every_organizer_page_shows_voter_file_values_as_text(browser, live_server):  # noqa: F811
    world = _hostile_campaign()
    page = new_page(browser, "laptop", bypass_csp=True)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", world["organizer"].username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        shown = []
        screens = list(_organizer_screens(world))
        assert len(screens) > 25, screens
        for name, url in screens:
            if name == "logout":
                continue
            answer = page.request.get(live_server.url + url, max_redirects=0)
            assert answer.status < 500, f"{name}: {answer.status}"
            if answer.status != 200 or "text/html" not in answer.headers["content-type"]:
                continue
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            assert page.evaluate(HARMED) == SAFE, f"{name} ({url}) ran a voter file's markup"
            if XSS in page.locator("body").inner_text():
                shown.append(name)
        # The pages that show these values show them, as typed.
        for name in (
            "campaign_dashboard",
            "turf_list",
            "turf_detail",
            "people_list",
            "person_detail",
            "followups_campaign",
            "replies_inbox",
            "shift_list",
            "shift_detail",
            "conversations_dashboard",
        ):
            assert name in shown, f"{name} does not show the value as text"
    finally:
        page.context.close()
