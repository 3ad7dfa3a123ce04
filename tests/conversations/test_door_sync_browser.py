"""The door screen's queue in headless Chromium at 360×640 against the real sync API:
nothing the server refuses holds back the rest, and nothing refused is stranded."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import HeldVisit, StoryNote, Visit
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    STORED_LISTS,
    WAIT_MS,
    card,
    choose,
    conversation_on_phone,
    door_url,
    eventually,
    go_offline,
    go_online,
    idb,
    not_contact,
    open_door,
    waiting,
)
from tests.factories import PersonFactory, VolunteerFactory
from turf.models import Assignment, TurfStop
from turf.services import assignment_reissue, assignment_revoke, turf_assign

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
    assert "not on your walk list." in listed
    done = client.post(reverse("held_visit_done", args=[held.campaign.slug, held.pk]))
    assert done.status_code == 302
    held.refresh_from_db()
    assert held.resolved_by == organizer
    assert "She works two jobs" not in client.get(page).content.decode()


def test_a_restored_link_keeps_its_walk_list_whatever_the_phone_last_heard(
    phone, live_server, door
):
    first, second, third = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    not_contact(phone, first, "Not home")
    assignment_revoke(assignment=door["assignment"])
    go_online(phone.context)
    phone.locator("#banner").wait_for(timeout=WAIT_MS)
    waiting(phone, 1)

    # The organizer restores the link; the next save goes through and the list stays.
    Assignment.objects.filter(pk=door["assignment"].pk).update(revoked_at=None)
    not_contact(phone, second, "Refused")
    waiting(phone, 0)
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 2
    phone.wait_for_timeout(300)
    assert phone.locator("#banner").count() == 0
    assert phone.locator("li.door").count() == 3
    assert phone.evaluate(STORED_LISTS) == 1

    # A stale "ended" flag on the phone, nothing unsent, no signal: the list stays.
    idb(
        phone,
        """const store = db.transaction("bundles", "readwrite").objectStore("bundles");
           const [record] = await ask(store.getAll());
           await ask(store.put({ ...record, ended: "ended" }));
           return true;""",
    )
    go_offline(phone.context)
    phone.reload()
    phone.wait_for_selector("li.door")
    phone.wait_for_timeout(300)
    assert phone.evaluate(STORED_LISTS) == 1
    assert card(phone, third).is_visible()
    go_online(phone.context)
    phone.reload()
    phone.wait_for_selector("li.door")
    # Shown from the stale flag at first, gone once the server answers.
    expect(phone.locator("#banner")).to_have_count(0, timeout=WAIT_MS)
    assert phone.evaluate(STORED_LISTS) == 1


def test_an_older_walk_list_never_hides_visits_just_delivered(phone, live_server, door, client):
    first, second, _ = door["households"]
    open_door(phone, live_server, door["token"])
    stale = client.get(reverse("sync_bundle", args=[door["token"]])).json()
    go_offline(phone.context)
    not_contact(phone, first, "Not home")
    conversation_on_phone(phone, second, who="Sam Ortiz")
    served = []

    def late_and_old(route):
        time.sleep(1.5)  # the answer arrives after the visits were delivered…
        served.append(route.request.url)
        route.fulfill(json=stale)  # …and describes the server before them

    phone.route("**/api/a/*/bundle", late_and_old)
    go_online(phone.context)
    waiting(phone, 0)
    deadline = time.monotonic() + 10
    while not served and time.monotonic() < deadline:
        phone.wait_for_timeout(100)
    assert served
    phone.wait_for_timeout(300)
    progress = "2 of 3 doors knocked · 1 conversation"
    assert phone.locator("#progress").inner_text() == progress
    assert "Not home" in card(phone, first).locator(".history").inner_text()
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 2

    go_offline(phone.context)
    phone.reload()
    phone.wait_for_selector("li.door")
    assert phone.locator("#progress").inner_text() == progress


def test_nothing_of_an_ended_link_is_left_on_the_phone(phone, live_server, door):
    first = door["households"][0]
    open_door(phone, live_server, door["token"])
    refused = {
        "client_id": str(uuid.uuid4()),
        "happened_at": "2024-10-05T14:03:00-05:00",
        "outcome": "not_home",
        "household_id": first.pk,
        "note": "kept for the organizer",
    }
    put_in_queue(phone, door["token"], refused)
    idb(
        phone,
        f"""const store = db.transaction("visits", "readwrite").objectStore("visits");
            const row = await ask(store.get("{refused["client_id"]}"));
            await ask(store.put({{ ...row, state: "invalid", detail: "Not accepted." }}));
            return true;""",
    )
    card(phone, first).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    choose(form, "Rating before", "2")
    form.get_by_label("Their story, in your words").fill("Half a story")
    drafts = """(async () => {
      const db = await new Promise((resolve) => {
        const open = indexedDB.open("porchlight-door");
        open.onsuccess = () => resolve(open.result);
      });
      const count = (name) => new Promise((resolve) => {
        const request = db.transaction(name).objectStore(name).count();
        request.onsuccess = () => resolve(request.result);
      });
      const counts = [await count("bundles"), await count("visits"), await count("drafts")];
      db.close();
      return counts;
    })()"""
    eventually(phone, drafts, [1, 1, 1])

    Assignment.objects.filter(pk=door["assignment"].pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    phone.reload()
    phone.get_by_text("This phone no longer holds anyone's details").wait_for(timeout=WAIT_MS)
    eventually(phone, drafts, [0, 0, 0])
    held = HeldVisit.objects.get()
    assert str(held.client_id) == refused["client_id"] and held.problem == "invalid"
    assert "Half a story" not in phone.locator("body").inner_text()


def test_a_reissued_or_reassigned_links_notes_are_sent_from_whichever_link_is_open(
    phone, live_server, door, campaign, volunteer
):
    first, second, third = door["households"]
    old = door["assignment"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    not_contact(phone, first, "Not home")
    conversation_on_phone(phone, second, who="Sam Ortiz")
    waiting(phone, 2)

    # The organizer reissues the link; the volunteer opens the new one with poor signal:
    # the walk list arrives, the visits do not get through yet.
    new, token = assignment_reissue(assignment=old)
    phone.route("**/api/a/*/visits", lambda route: route.abort("timedout"))
    go_online(phone.context)
    phone.goto(door_url(live_server, token))
    phone.wait_for_selector("li.door")
    others = phone.locator("#others")
    others.wait_for()
    assert "2 notes from another walk list" in others.inner_text()
    assert "Everything is sent" in phone.locator("#pending").inner_text()

    phone.unroute("**/api/a/*/visits")
    phone.get_by_role("button", name="Sync now").click()
    others.wait_for(state="detached", timeout=WAIT_MS)
    mine = Visit.objects.filter(assignment=old)
    assert sorted(mine.values_list("outcome", flat=True)) == ["conversation", "not_home"]
    assert set(mine.values_list("volunteer", flat=True)) == {volunteer.pk}

    # A shared phone: the turf goes to someone else, who opens their link on this phone.
    go_offline(phone.context)
    not_contact(phone, third, "Refused")
    someone = VolunteerFactory(campaign=campaign, first_name="Bea")
    _, theirs = turf_assign(turf=new.turf, volunteers=[someone], shift=new.shift)
    phone.route("**/api/a/*/visits", lambda route: route.abort("timedout"))
    go_online(phone.context)
    phone.goto(door_url(live_server, theirs))
    phone.wait_for_selector("li.door")
    phone.locator("#others").wait_for()
    assert "1 note from another walk list" in phone.locator("#others").inner_text()
    phone.unroute("**/api/a/*/visits")
    phone.get_by_role("button", name="Sync now").click()
    phone.locator("#others").wait_for(state="detached", timeout=WAIT_MS)
    refused = Visit.objects.get(outcome="refused")
    assert (refused.assignment, refused.volunteer) == (new, volunteer)


def test_a_do_not_contact_door_says_do_not_knock(phone, live_server, door, campaign):
    first, second, _ = door["households"]
    door["rosa"].do_not_contact = True
    door["rosa"].save()
    PersonFactory(campaign=campaign, household=second, first_name="Quinn", do_not_contact=True)
    open_door(phone, live_server, door["token"])

    alone = card(phone, first)
    assert "Do not knock." in alone.inner_text()
    assert "Rosa Diaz (do not contact)" in alone.inner_text()
    assert alone.get_by_role("button").count() == 0

    # Sam still lives at the second door; Quinn is never offered for a conversation.
    card(phone, second).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    who = form.locator("fieldset").filter(has_text="Who did you talk with?").first
    assert "Sam Ortiz" in who.inner_text() and "Quinn" not in who.inner_text()


def test_one_visit_per_intended_tap_and_nothing_typed_is_dropped_by_a_tap(phone, live_server, door):
    first, second, third = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)

    card(phone, third).get_by_role("button", name="Not home", exact=True).dblclick()
    waiting(phone, 1)
    phone.wait_for_timeout(300)
    assert len(queued(phone)) == 1

    # A note typed on the card comes along into the conversation form.
    card(phone, second).locator("input.note").fill("Spoke through the screen door")
    card(phone, second).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    assert form.get_by_label("Short note (optional)").input_value() == (
        "Spoke through the screen door"
    )

    # Cancel asks before dropping anything typed.
    form.get_by_label("Their story, in your words").fill("Her landlord keeps the deposit.")
    form.get_by_role("button", name="Cancel").click()
    form.get_by_role("button", name="Keep writing").click()
    assert form.get_by_label("Their story, in your words").input_value() == (
        "Her landlord keeps the deposit."
    )
    form.get_by_role("button", name="Save").click()
    phone.wait_for_selector("li.door")
    waiting(phone, 2)
    go_online(phone.context)
    waiting(phone, 0)
    talk = Visit.objects.get(assignment=door["assignment"], outcome="conversation")
    assert talk.note == "Spoke through the screen door"
    assert talk.story_note.story == "Her landlord keeps the deposit."
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 2

    # With nothing typed, Cancel just closes.
    card(phone, first).get_by_role("button", name="Conversation").click()
    phone.locator("form.story").get_by_role("button", name="Cancel").click()
    phone.wait_for_selector("li.door")


def test_counts_speak_in_the_right_number_and_an_unknown_link_is_not_ended(
    phone, live_server, door
):
    first, second, _ = door["households"]
    open_door(phone, live_server, door["token"])
    conversation_on_phone(phone, first, who="Rosa Diaz")
    waiting(phone, 0)
    assert phone.locator("#progress").inner_text() == "1 of 3 doors knocked · 1 conversation"

    go_offline(phone.context)
    not_contact(phone, second, "Moved")
    Assignment.objects.filter(pk=door["assignment"].pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    go_online(phone.context)
    banner = phone.locator("#banner")
    banner.wait_for(timeout=WAIT_MS)
    assert "1 unsent note is kept on this phone" in banner.inner_text()
    phone.get_by_role("button", name="Finish").click()
    assert "1 note has not been sent yet" in phone.locator(".notice").inner_text()

    phone.goto(door_url(live_server, "no-such-link"))
    banner.wait_for(timeout=WAIT_MS)
    assert "This link is not known" in banner.inner_text()
    assert "has ended" not in banner.inner_text()
