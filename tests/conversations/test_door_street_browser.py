"""The door screen on a long turf, in headless Chromium at 360×640 against the real sync API:
a save redraws one card, nothing covers the next door, long lists stay workable."""

import json
import uuid

import pytest

from conversations.models import Visit
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    card,
    conversation_on_phone,
    idb,
    not_contact,
    open_door,
    waiting,
    walk_list,
)
from tests.factories import VolunteerFactory
from turf.services import assignment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


@pytest.fixture
def long_turf(campaign):
    turf = walk_list(campaign, doors=12, name="Elm")
    assignment, token = assignment_create(
        turf=turf, volunteers=[VolunteerFactory(campaign=campaign, first_name="Val")]
    )
    doors = [stop.household for stop in turf.stops.order_by("position")]
    return {"assignment": assignment, "token": token, "doors": doors}


# Records which door cards the page changes from now on, and marks the walk list's node
# so that a rebuilt list (a new node) is told apart from the same list updated.
WATCH_CARDS = """() => {
  window.touched = new Set();
  const walk = document.querySelector("ol.walk");
  walk.dataset.kept = "yes";
  new MutationObserver((records) => {
    for (const record of records) {
      const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      const li = node.closest("li.door");
      if (li) touched.add(li.id);
    }
  }).observe(walk, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def touched(page):
    return set(page.evaluate("[...window.touched]"))


def test_a_save_redraws_only_the_card_that_changed(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    phone.evaluate(WATCH_CARDS)

    not_contact(phone, doors[3], "Not home")
    waiting(phone, 0)
    phone.wait_for_timeout(300)
    assert touched(phone) == {f"h-{doors[3].pk}"}

    # A conversation: the form closes onto the same walk list, one card redrawn.
    conversation_on_phone(phone, doors[5])
    waiting(phone, 0)
    phone.wait_for_timeout(300)
    assert phone.evaluate("document.querySelector('ol.walk').dataset.kept") == "yes"
    assert touched(phone) == {f"h-{doors[3].pk}", f"h-{doors[5].pk}"}
    assert "Conversation" in card(phone, doors[5]).locator(".history").inner_text()
    assert phone.locator("#progress").inner_text() == "2 of 12 doors knocked · 1 conversation"
    assert Visit.objects.filter(assignment=long_turf["assignment"]).count() == 2


# True when every outcome button of the card whose center is on screen can be tapped
# there (nothing lies over it).
TAPPABLE = """(card) => [...card.querySelectorAll(".outcomes button")].filter((button) => {
  const r = button.getBoundingClientRect();
  return r.top + r.height / 2 > 0 && r.top + r.height / 2 < innerHeight;
}).map((button) => {
  const r = button.getBoundingClientRect();
  return button.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
})"""


def test_the_saved_toast_never_covers_the_next_doors_buttons(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    following = card(phone, doors[4])
    # The next door's last buttons at the very bottom of the screen, where a thumb goes.
    following.locator(".outcomes button").last.evaluate("(b) => b.scrollIntoView({block: 'end'})")
    before = following.evaluate(TAPPABLE)
    assert before and all(before)

    card(phone, doors[3]).get_by_role("button", name="Not home", exact=True).click()
    toast = phone.locator("#toast")
    toast.wait_for(state="visible")
    after = following.evaluate(TAPPABLE)
    assert after and all(after)
    bar = phone.locator("#sync").bounding_box()
    shown = toast.bounding_box()
    assert shown["y"] >= bar["y"] and shown["y"] + shown["height"] <= bar["y"] + bar["height"]


def test_ten_problems_leave_the_walk_list_on_screen(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    rows = [
        {
            "client_id": str(uuid.uuid4()),
            "token": long_turf["token"],
            "state": "invalid",
            "saved_at": n,
            "payload": {
                "client_id": "",
                "happened_at": "2024-10-05T14:03:00-05:00",
                "outcome": "not_home",
                "household_id": doors[n].pk,
                "note": "The note that was refused",
            },
            "errors": {"note": ["The server refused this note for a reason told in full."]},
            "detail": "",
        }
        for n in range(10)
    ]
    for row in rows:
        row["payload"]["client_id"] = row["client_id"]
    idb(
        phone,
        f"""const store = db.transaction("visits", "readwrite").objectStore("visits");
            for (const row of {json.dumps(rows)}) await ask(store.put(row));
            return true;""",
    )
    phone.reload()
    problems = phone.locator("#problems li.invalid")
    problems.nth(9).wait_for(state="attached")
    assert phone.locator("#problems-count").inner_text() == "10 visits need your attention"
    bar = phone.locator("#sync").bounding_box()
    assert bar["height"] <= 640 / 2
    first = card(phone, doors[0]).locator("h2")
    assert first.is_visible()
    # The last problem is reached by scrolling the list inside the bar.
    problems.nth(9).get_by_role("button", name="Fix").click()
    assert phone.locator("form.story").is_visible()
