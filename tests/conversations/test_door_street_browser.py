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
    go_offline,
    go_online,
    idb,
    not_contact,
    open_door,
    saved_toast,
    stored,
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


def in_view(page, locator):
    """The element's center is on screen and nothing covers it there."""
    return locator.evaluate(
        """(node) => {
          const r = node.getBoundingClientRect();
          const x = r.x + r.width / 2, y = r.y + r.height / 2;
          return y > 0 && y < innerHeight && node.contains(document.elementFromPoint(x, y));
        }"""
    )


def test_find_a_door_by_number_or_street(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    find = phone.get_by_label("Find a door")

    find.fill("12")
    assert phone.locator("li.door:visible h2").all_text_contents() == ["12 Elm Street"]
    assert phone.locator("#find-count").inner_text() == "1 door matches"
    find.fill("1 elm")
    assert phone.locator("li.door:visible h2").all_text_contents() == [
        "1 Elm Street",
        "10 Elm Street",
        "11 Elm Street",
        "12 Elm Street",
    ]
    assert phone.locator("#find-count").inner_text() == "4 doors match"
    find.fill("oak")
    assert phone.locator("li.door:visible").count() == 0
    find.fill("")
    assert phone.locator("li.door:visible").count() == len(doors)


def test_next_door_not_knocked(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    for household in doors[:2]:
        not_contact(phone, household, "Not home")
    next_door = phone.get_by_role("button", name="Next door not knocked")

    next_door.click()
    heading = card(phone, doors[2]).locator("h2")
    assert in_view(phone, heading)
    assert phone.evaluate("document.activeElement.closest('li.door').id") == f"h-{doors[2].pk}"
    # From the top of the list again: the first not knocked; pressed again, the next
    # one after it, passing over the door knocked meanwhile.
    not_contact(phone, doors[3], "Refused")
    phone.evaluate("scrollTo(0, 0)")
    next_door.click()
    focused = "document.activeElement.closest('li.door').id"
    assert phone.evaluate(focused) == f"h-{doors[2].pk}"
    next_door.click()
    assert phone.evaluate(focused) == f"h-{doors[4].pk}"
    assert in_view(phone, card(phone, doors[4]).locator("h2"))


def test_save_stays_within_reach_while_writing(phone, live_server, long_turf):
    doors = long_turf["doors"]
    open_door(phone, live_server, long_turf["token"])
    card(phone, doors[0]).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    story = form.get_by_label("Their story, in your words")
    story.fill("She works two jobs to keep the flat.")
    story.focus()
    save = form.get_by_role("button", name="Save")
    assert in_view(phone, story)
    assert in_view(phone, save)
    # Shorter to scroll: each 0–10 scale takes two rows of chips, not three.
    rows = form.locator("fieldset.scale").evaluate_all(
        """(groups) => groups.map((group) => new Set([...group.querySelectorAll(".chip")]
             .map((chip) => Math.round(chip.getBoundingClientRect().top))).size)"""
    )
    assert rows == [2, 2, 2]
    save.click()
    saved_toast(phone)
    stored(phone, Visit.objects.filter(assignment=long_turf["assignment"]), 1)


def test_in_spanish_counts_and_the_campaigns_own_script(browser, live_server, door, campaign):  # noqa: F811
    campaign.script_translations = {
        "es": {
            "rating_question": "Del 0 al 10, ¿qué opinas de esto?",
            "story_themes": {"Housing": "Vivienda"},
        }
    }
    campaign.save(update_fields=["script_translations"])
    first, second, _ = door["households"]
    page = new_page(browser, "phone", locale="es-ES")
    try:
        open_door(page, live_server, door["token"])
        assert page.locator("#progress").inner_text() == (
            "0 de 3 puertas tocadas · 0 conversaciones"
        )
        # Earlier visits' themes in the campaign's Spanish words.
        assert "Vivienda" in card(page, first).locator(".history").inner_text()
        go_offline(page.context)
        card(page, second).get_by_role("button", name="No está en casa").click()
        waiting(page, 1)
        assert page.locator("#pending").inner_text().startswith("1 visita por sincronizar")

        card(page, first).get_by_role("button", name="Conversación", exact=True).click()
        form = page.locator("form.story")
        assert form.locator(".question").inner_text() == "Del 0 al 10, ¿qué opinas de esto?"
        form.get_by_text("Vivienda", exact=True).click()
        form.get_by_role("button", name="Guardar").click()
        waiting(page, 2)
        assert page.locator("#pending").inner_text().startswith("2 visitas por sincronizar")
        go_online(page.context)
        waiting(page, 0)
        assert page.locator("#progress").inner_text() == ("2 de 3 puertas tocadas · 1 conversación")
    finally:
        page.context.close()
    note = Visit.objects.get(assignment=door["assignment"], outcome="conversation").story_note
    # Sent as the campaign's own theme, whatever language it was ticked in.
    assert note.themes == ["Housing"]


def test_the_conversations_length_is_measured_and_can_be_changed(phone, live_server, long_turf):
    doors = long_turf["doors"]
    phone.clock.install()
    open_door(phone, live_server, long_turf["token"])

    card(phone, doors[0]).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    length = form.get_by_label("Minutes talking")
    assert length.input_value() == "0"
    phone.clock.fast_forward("12:00")
    form.get_by_label("Their story, in your words").fill("Twelve minutes of listening.")
    form.get_by_role("button", name="Save").click()
    saved_toast(phone)
    waiting(phone, 0)

    card(phone, doors[1]).get_by_role("button", name="Conversation").click()
    phone.clock.fast_forward("03:00")
    length.fill("25")
    phone.clock.fast_forward("05:00")
    form.get_by_role("button", name="Save").click()
    phone.wait_for_selector("li.door")
    mine = Visit.objects.filter(assignment=long_turf["assignment"])
    for _ in range(100):
        if mine.count() == 2:
            break
        phone.wait_for_timeout(200)
    stored = {
        v.household_id: v.story_note.minutes
        for v in Visit.objects.filter(assignment=long_turf["assignment"])
    }
    assert stored == {doors[0].pk: 12, doors[1].pk: 25}
