"""The ladder on a real phone screen: a "volunteer a shift" at the door picks one of the
campaign's next shifts (offline too), and the signup it makes is kept on check-in."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from canvass import services
from canvass.models import ShiftSignup
from conversations.models import Commitment
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    card,
    choose,
    doors,
    fill_conversation,
    go_offline,
    go_online,
    open_door,
    saved_toast,
    waiting,
)
from tests.factories import PersonFactory, ShiftFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


@pytest.fixture
def door(assignment, campaign):
    assignment, token = assignment
    household = doors(assignment)[0]
    PersonFactory(campaign=campaign, household=household, first_name="Rosa", last_name="Diaz")
    start = (timezone.now() + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    shift = ShiftFactory(
        campaign=campaign,
        name="Saturday canvass",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        place="Union hall, 12 Elm St",
        capacity=4,
    )
    return {"token": token, "household": household, "shift": shift}


def serious(page):
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_a_shift_picked_at_the_door_offline_becomes_a_signup_kept_on_check_in(
    phone, live_server, door, organizer
):
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    form = fill_conversation(phone, door["household"], who="Rosa Diaz")
    form.get_by_role("button", name="Add a commitment").click()
    block = form.locator("fieldset.commitment").last
    picker = block.locator("fieldset.ladder")
    assert picker.is_hidden()  # only for "volunteer a shift"
    block.get_by_label("Kind").select_option("volunteer_shift")
    assert picker.is_visible()
    option = picker.locator("label.chip", has_text="Union hall, 12 Elm St")
    assert "Union hall, 12 Elm St · 4 spots left" in option.inner_text()
    option.click()
    assert block.get_by_label("What exactly").input_value().startswith("Saturday canvass, ")
    assert block.get_by_label("When").input_value() != ""
    choose(block, "Reminders by", "Text message")
    block.get_by_label("Phone").fill("512-555-0188")
    # Fits the phone: the picker's choices are as wide as the screen at most.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    assert serious(phone) == []
    form.get_by_role("button", name="Save").click()
    saved_toast(phone)
    waiting(phone, 1)
    assert not ShiftSignup.objects.filter(source=ShiftSignup.Source.DOOR).exists()

    go_online(phone.context)
    phone.get_by_role("button", name="Sync now").click()
    waiting(phone, 0)
    commitment = Commitment.objects.get(kind="volunteer_shift")
    signup = commitment.shift_signup
    assert signup.shift == door["shift"] and signup.volunteer.first_name == "Rosa"
    assert signup.remind_by_sms and signup.volunteer.phone == "+15125550188"
    assert card(phone, door["household"]).is_visible()

    services.signup_check_in(signup=signup, checked_in_by=organizer)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.KEPT
