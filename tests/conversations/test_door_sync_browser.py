"""The door screen's queue in headless Chromium at 360×640 against the real sync API:
nothing the server refuses holds back the rest, and nothing refused is stranded."""

import json
import uuid

import pytest
from django.urls import reverse

from conversations.models import HeldVisit, StoryNote, Visit
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    WAIT_MS,
    card,
    conversation_on_phone,
    go_offline,
    go_online,
    idb,
    not_contact,
    open_door,
    waiting,
)
from turf.models import TurfStop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


def queued(page):
    return idb(
        page,
        """const rows = await ask(db.transaction("visits").objectStore("visits").getAll());
           return rows.map((row) => [row.state, row.payload.note]);""",
    )


def put_in_queue(page, token, payload):
    """A visit as an older version of the door screen left it in the phone's queue."""
    idb(
        page,
        f"""const store = db.transaction("visits", "readwrite").objectStore("visits");
            await ask(store.put({
            json.dumps(
                {
                    "client_id": payload["client_id"],
                    "token": token,
                    "state": "waiting",
                    "saved_at": 1,
                    "payload": payload,
                    "errors": None,
                    "detail": "",
                }
            )
        }));
            return true;""",
    )


def test_the_phone_checks_the_servers_limits_before_saving(phone, live_server, door):
    first, second, _ = door["households"]

    def smaller_story(route):
        answer = route.fetch()
        body = answer.json()
        body["limits"]["story_note"]["story"] = 40  # the phone must use what the server says
        route.fulfill(response=answer, json=body)

    phone.route("**/api/a/*/bundle", smaller_story)
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)

    card(phone, first).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    story = form.get_by_label("Their story, in your words")
    story.fill("x" * 41)
    form.get_by_role("button", name="Save").click()
    field = form.locator("[data-path='story_note.story']")
    assert "At most 40 characters here; this has 41." in field.locator(".error").inner_text()
    assert story.get_attribute("aria-invalid") == "true"
    assert story.input_value() == "x" * 41  # nothing cut off behind the volunteer's back
    story.fill("x" * 40)
    form.get_by_role("button", name="Save").click()
    phone.wait_for_selector("li.door")
    waiting(phone, 1)

    note = card(phone, second).locator("input.note")
    note.fill("n" * 501)
    card(phone, second).get_by_role("button", name="Not home", exact=True).click()
    assert "At most 500 characters here; this has 501." in card(phone, second).inner_text()
    assert note.input_value() == "n" * 501
    waiting(phone, 1)
    assert [state for state, _ in queued(phone)] == ["waiting"]


def test_one_refused_visit_never_holds_back_the_others(phone, live_server, door):
    first, second, third = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    too_big = {
        "client_id": str(uuid.uuid4()),
        "happened_at": "2024-10-05T14:03:00-05:00",
        "outcome": "not_home",
        "household_id": first.pk,
        "note": "pasted " * 450_000,  # over the server's request size on its own
    }
    put_in_queue(phone, door["token"], too_big)
    breaks_server = {**too_big, "client_id": str(uuid.uuid4()), "note": "breaks the server"}
    put_in_queue(phone, door["token"], breaks_server)

    def fail_on_one(route):
        if breaks_server["client_id"] in (route.request.post_data or ""):
            route.fulfill(status=500, body="Server Error (500)")
        else:
            route.continue_()

    phone.route("**/api/a/*/visits", fail_on_one)
    not_contact(phone, second, "Refused", note="Came after the bad ones")
    not_contact(phone, third, "Moved")
    go_online(phone.context)

    phone.locator("#problems li.invalid").wait_for(timeout=WAIT_MS)
    phone.locator("#problems li.trouble").wait_for(timeout=WAIT_MS)
    mine = Visit.objects.filter(assignment=door["assignment"])
    assert sorted(mine.values_list("outcome", flat=True)) == ["moved", "refused"]
    waiting(phone, 2)
    problems = phone.locator("#problems")
    invalid = problems.locator("li.invalid").inner_text()
    assert "Needs fixing" in invalid and "larger than" in invalid
    trouble = problems.locator("li.trouble").inner_text()
    assert "problem with this visit (500)" in trouble
    assert "other visits are not held back" in trouble

    # Fixing the refused one sends it.
    problems.locator("li.invalid").get_by_role("button", name="Fix").click()
    form = phone.locator("form.story")
    note = form.get_by_label("Short note (optional)")
    assert "At most 500 characters here" in form.inner_text()
    note.fill("Too long, shortened")
    form.get_by_role("button", name="Save").click()
    phone.wait_for_selector("li.door")
    waiting(phone, 1)
    assert mine.filter(note="Too long, shortened").count() == 1


def test_a_refused_visit_is_fixed_in_full_or_handed_to_the_organizer(
    phone, live_server, door, organizer, outsider, client
):
    first, second, third = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    not_contact(phone, third, "Not home", note="Blue door")
    conversation_on_phone(phone, second, who="Sam Ortiz")
    # Meanwhile the organizer takes both doors off the turf.
    TurfStop.objects.filter(household__in=[second, third]).delete()
    go_online(phone.context)

    problems = phone.locator("#problems")
    problems.locator("li.invalid").nth(1).wait_for(timeout=WAIT_MS)
    assert "This door is not on your walk list." in problems.inner_text()
    waiting(phone, 2)

    # The knock: another door and another outcome, not only the note.
    problems.locator("li.invalid", has_text="Not home").get_by_role("button", name="Fix").click()
    form = phone.locator("form.story")
    form.get_by_label("Door").select_option(label=first.address_line)
    form.get_by_label("Outcome").select_option(label="Refused")
    form.get_by_role("button", name="Save").click()
    phone.wait_for_selector("li.door")
    waiting(phone, 1)
    fixed = Visit.objects.get(assignment=door["assignment"])
    assert (fixed.household, fixed.outcome, fixed.note) == (first, "refused", "Blue door")

    # The conversation goes to the organizer as it is; then the volunteer can finish.
    problems.locator("li.invalid").get_by_role("button", name="Send to organizer").click()
    waiting(phone, 0)
    held = HeldVisit.objects.get()
    assert held.problem == "invalid" and held.assignment == door["assignment"]
    assert held.payload["story_note"]["story"] == "She works two jobs to keep the flat."
    assert "not on your walk list" in held.detail
    assert not StoryNote.objects.filter(visit__assignment=door["assignment"]).exists()
    phone.get_by_role("button", name="Finish").click()
    phone.get_by_role("button", name="Yes, remove it").click()
    phone.get_by_text("This phone no longer holds anyone's details").wait_for()

    page = reverse("held_visits", args=[door["assignment"].turf.campaign.slug])
    client.force_login(outsider)
    assert client.get(page).status_code == 404
    client.force_login(organizer)
    listed = client.get(page).content.decode()
    assert "She works two jobs to keep the flat." in listed
    assert "This door is not on your walk list." in listed
    done = client.post(reverse("held_visit_done", args=[held.campaign.slug, held.pk]))
    assert done.status_code == 302
    held.refresh_from_db()
    assert held.resolved_by == organizer
    assert "She works two jobs" not in client.get(page).content.decode()
