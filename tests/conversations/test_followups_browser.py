"""My follow-ups on a 360 px phone in a real headless Chromium: everything fits, every
control is big enough to tap, and one tap marks a commitment kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.models import Membership
from conversations.models import Commitment, FollowUpEvent
from tests.browser import browser, log_in, new_page  # noqa: F401 (fixtures)
from tests.factories import (
    PASSWORD,
    CommitmentFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAP = 44  # px: the smallest target a thumb hits reliably


@pytest.fixture
def nadia(campaign):
    user = UserFactory(username="nadia", first_name="Nadia")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    for name, days in [("Maria", -1), ("Luis", 3)]:
        CommitmentFactory(
            campaign=campaign,
            owner=user,
            person=PersonFactory(campaign=campaign, first_name=name, last_name="Lopez"),
            what=f"{name} comes to the tenants' meeting at the library",
            when=timezone.now() + timedelta(days=days),
            phone="+15125550123",
        )
    return user


def test_follow_ups_fit_a_phone_and_one_tap_marks_kept(browser, live_server, nadia):  # noqa: F811
    page = new_page(browser, "phone")
    log_in(page, live_server, nadia.username, PASSWORD)
    page.goto(f"{live_server.url}/follow-ups/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    controls = page.locator(".fu button, .fu a, .fu textarea, .fu summary, .fu-jump a")
    assert controls.count() >= 20
    for i in range(controls.count()):
        control = controls.nth(i)
        if control.is_visible():
            box = control.bounding_box()
            assert box["height"] >= TAP, f"{control.inner_text()!r} is {box['height']}px tall"
            assert box["x"] + box["width"] <= 360

    overdue = page.locator("#overdue article.fu")
    assert "Maria Lopez" in overdue.inner_text()
    overdue.locator("textarea[name=note]").fill("She came with her sister.")
    overdue.locator("button[value=kept]").click()

    page.wait_for_selector(".messages")
    assert "Marked kept: Maria Lopez" in page.locator(".messages").inner_text()
    assert page.locator("#overdue").inner_text().count("Maria") == 0
    kept = Commitment.objects.get(person__first_name="Maria")
    assert kept.status == Commitment.Status.KEPT
    event = FollowUpEvent.objects.get(commitment=kept)
    assert (event.by, event.note) == (nadia, "She came with her sister.")
    page.context.close()


def test_reschedule_opens_a_date_field_without_javascript(
    browser,  # noqa: F811
    live_server,
    nadia,
):
    page = new_page(browser, "phone", java_script_enabled=False)
    log_in(page, live_server, nadia.username, PASSWORD)
    page.goto(f"{live_server.url}/follow-ups/")

    row = page.locator("#upcoming article.fu")
    row.locator("summary").click()
    row.locator("input[name=new_when]").fill("2031-05-04T18:30")
    row.locator("button[value=rescheduled]").click()

    page.wait_for_selector(".messages")
    luis = Commitment.objects.get(person__first_name="Luis")
    local = timezone.localtime(luis.when, luis.campaign.tz)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2031, 5, 4, 18, 30)
    page.context.close()
