"""Two tabs of one link on one phone (headless Chromium at 360×640, real sync API): they
share the queue, so both show the right count, and each keeps its own draft."""

import pytest
from playwright.sync_api import expect

from conversations.models import Visit
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    WAIT_MS,
    card,
    go_offline,
    go_online,
    idb,
    not_contact,
    open_door,
    waiting,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tabs(browser):  # noqa: F811
    first = new_page(browser, "phone")
    second = first.context.new_page()
    yield first, second
    first.context.close()


def test_two_tabs_show_the_same_pending_count(tabs, live_server, door):
    one, two = tabs
    first, second, third = door["households"]
    open_door(one, live_server, door["token"])
    open_door(two, live_server, door["token"])
    go_offline(one.context)

    not_contact(one, first, "Not home")
    waiting(one, 1)
    waiting(two, 1)
    assert "waiting to sync" in card(two, first).locator(".history").inner_text()
    not_contact(two, second, "Refused")
    waiting(one, 2)
    waiting(two, 2)

    go_online(one.context)
    for tab in tabs:
        tab.evaluate("window.dispatchEvent(new Event('online'))")
    waiting(one, 0)
    waiting(two, 0)
    # Delivered once each, and both tabs' walk lists show it.
    mine = Visit.objects.filter(assignment=door["assignment"])
    assert sorted(mine.values_list("outcome", flat=True)) == ["not_home", "refused"]
    expect(two.locator("#progress")).to_have_text(
        "2 of 3 doors knocked · 0 conversations", timeout=WAIT_MS
    )
    not_contact(two, third, "Moved")
    waiting(two, 0)
    waiting(one, 0)
    for _ in range(100):
        if mine.count() == 3:
            break
        one.wait_for_timeout(200)
    assert mine.count() == 3


def open_and_write(tab, household, words):
    card(tab, household).get_by_role("button", name="Conversation").click()
    story = tab.locator("form.story").get_by_label("Their story, in your words")
    story.fill(words)
    return story


DRAFTS = """const rows = await ask(db.transaction("drafts").objectStore("drafts").getAll());
return rows.map((row) => row.payload.story_note.story).sort();"""


def test_each_tab_keeps_its_own_draft(tabs, live_server, door):
    one, two = tabs
    first, second, _ = door["households"]
    open_door(one, live_server, door["token"])
    open_door(two, live_server, door["token"])

    open_and_write(two, second, "Words in the second tab")
    one.wait_for_timeout(600)
    open_and_write(one, first, "Words in the first tab")
    deadline = WAIT_MS / 1000
    while deadline > 0 and len(idb(one, DRAFTS)) < 2:
        one.wait_for_timeout(100)
        deadline -= 0.1
    assert idb(one, DRAFTS) == ["Words in the first tab", "Words in the second tab"]

    # The second tab is closed by the phone and opened again: its own words come back,
    # not the other tab's (which is still open there).
    two.reload()
    story = two.locator("form.story").get_by_label("Their story, in your words")
    expect(story).to_have_value("Words in the second tab", timeout=WAIT_MS)
    assert second.address_line in two.locator("form.story h2").inner_text()

    for tab in tabs:
        tab.locator("form.story").get_by_role("button", name="Save").click()
        tab.wait_for_selector("li.door")
    waiting(one, 0)
    waiting(two, 0)
    notes = Visit.objects.filter(assignment=door["assignment"]).order_by("household_id")
    assert [(v.household_id, v.story_note.story) for v in notes] == [
        (first.pk, "Words in the first tab"),
        (second.pk, "Words in the second tab"),
    ]
    assert one.locator("#problems").count() == 0 and two.locator("#problems").count() == 0
    assert idb(one, DRAFTS) == []
