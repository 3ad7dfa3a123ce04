"""The door screen in a real headless Chromium at a phone's size, against the real sync API.

Every flow ends by counting rows on the server: what the volunteer saw on the phone is
only half of "nothing is lost".
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from conversations.models import Commitment, StoryNote, Visit
from tests.browser import browser, new_page  # noqa: F401
from tests.conversations.door import (
    STORED_LISTS,
    WAIT_MS,
    add_commitment,
    card,
    choose,
    conversation_on_phone,
    door_url,
    eventually,
    go_offline,
    go_online,
    not_contact,
    open_door,
    saved_toast,
    waiting,
)
from tests.factories import (
    AssignmentFactory,
    TurfFactory,
    VolunteerFactory,
)
from turf.models import Assignment
from turf.services import assignment_create, assignment_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


def test_walk_list_in_walk_order_with_earlier_visits_and_progress(phone, live_server, door):
    open_door(phone, live_server, door["token"])

    addresses = phone.locator("li.door h2").all_inner_texts()
    assert addresses == [h.address_line for h in door["households"]]
    first, second = (card(phone, h) for h in door["households"][:2])
    assert "Rosa Diaz" in first.inner_text()
    assert "Conversation · Housing" in first.locator(".history").inner_text()
    # A sensitive note's themes never reach the phone.
    assert "Faith" not in second.inner_text()
    assert phone.locator("#progress").inner_text() == "0 of 3 doors knocked · 0 conversations"
    assert phone.locator("#turf").inner_text() == "Maple blocks"


def test_the_whole_door_flow_lands_on_the_server(phone, live_server, door, organizer):
    first, second, third = door["households"]
    open_door(phone, live_server, door["token"])

    not_contact(phone, third, "Not home", note="Dog in the yard")
    conversation_on_phone(
        phone,
        first,
        who="Rosa Diaz",
        commitment={
            "what": "Tenants' meeting at the library",
            "phone": "512-555-0123",
            "owner": "Olivia",
        },
    )
    conversation_on_phone(phone, None, place="Flea market table", new_person="Dana")
    waiting(phone, 0)
    assert phone.locator("#progress").inner_text() == "2 of 3 doors knocked · 2 conversations"

    visits = Visit.objects.filter(assignment=door["assignment"])
    assert visits.count() == 3
    knock = visits.get(outcome="not_home")
    assert (knock.household, knock.note) == (third, "Dog in the yard")
    talk = visits.get(household=first)
    assert (talk.outcome, talk.person) == ("conversation", door["rosa"])
    note = StoryNote.objects.get(visit=talk)
    assert (note.rating_before, note.rating_after, note.self_rating) == (3, 7, 8)
    assert note.themes == ["Housing", "Family"]
    assert note.canvasser_shared_story and not note.sensitive
    assert note.story == "She works two jobs to keep the flat."
    commitment = Commitment.objects.get(visit=talk)
    assert (commitment.kind, commitment.channel, commitment.phone) == (
        "meeting",
        "sms",
        "+15125550123",
    )
    assert commitment.owner == organizer and commitment.person == door["rosa"]
    assert commitment.when is not None
    event = visits.get(household__isnull=True)
    assert (event.place, event.person.first_name) == ("Flea market table", "Dana")
    assert event.story_note.rating_after == 7


def test_a_pair_says_who_was_at_the_door(phone, live_server, campaign, volunteer):
    partner = VolunteerFactory(campaign=campaign, first_name="Sam", last_name="Lee")
    pair, token = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=2), volunteers=[volunteer, partner]
    )
    first, second = (stop.household for stop in pair.turf.stops.order_by("position"))
    open_door(phone, live_server, token)

    picker = phone.get_by_label("Recording as")
    holder = int(picker.input_value())
    other = volunteer if holder == partner.pk else partner
    not_contact(phone, first, "Not home")
    picker.select_option(label=str(other))
    not_contact(phone, second, "Refused")
    phone.reload()
    phone.wait_for_selector("li.door")
    assert picker.input_value() == str(other.pk)
    waiting(phone, 0)

    by_outcome = dict(Visit.objects.filter(assignment=pair).values_list("outcome", "volunteer"))
    assert by_outcome == {"not_home": holder, "refused": other.pk}


def test_twenty_visits_offline_survive_reload_and_reopen_and_arrive_once(phone, live_server, door):
    households = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)

    for n in range(14):
        not_contact(phone, households[n % 3], ("Not home", "Refused", "Come back later")[n % 3])
    for n in range(6):
        conversation_on_phone(
            phone,
            households[n % 3],
            new_person=f"Neighbor{n}",
            commitment={"what": f"Meeting {n}", "phone": "512-555-0123"},
        )
    waiting(phone, 20)
    assert "20 visits waiting to sync" in phone.locator("#pending").inner_text()

    phone.reload()
    phone.wait_for_selector("li.door")
    waiting(phone, 20)

    context = phone.context
    phone.close()
    again = context.new_page()
    again.goto(door_url(live_server, door["token"]))
    again.wait_for_selector("li.door")
    waiting(again, 20)
    assert Visit.objects.count() == door["before"]

    go_online(context)
    waiting(again, 0)
    mine = Visit.objects.filter(assignment=door["assignment"])
    assert mine.count() == 20
    assert len(set(mine.values_list("client_id", flat=True))) == 20
    assert mine.filter(outcome="conversation").count() == 6
    assert Commitment.objects.filter(visit__in=mine).count() == 6


def test_answer_lost_after_the_server_committed_is_resent_without_a_duplicate(
    phone, live_server, door
):
    first, second, _ = door["households"]
    open_door(phone, live_server, door["token"])
    calls = []

    def reach_server_then_cut(route):
        calls.append(route.request.post_data)
        if len(calls) == 1:
            route.fetch()  # the server receives and commits the batch…
            route.abort("connectionreset")  # …and the phone never hears back
        else:
            route.continue_()

    phone.context.route("**/api/a/*/visits", reach_server_then_cut)
    not_contact(phone, first, "Refused")
    phone.wait_for_function("document.querySelector('#pending').textContent.includes('again')")
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 1
    waiting(phone, 1)

    conversation_on_phone(phone, second, who="Sam Ortiz")
    phone.get_by_role("button", name="Sync now").click()
    waiting(phone, 0)

    assert len(calls) >= 2
    mine = Visit.objects.filter(assignment=door["assignment"])
    assert sorted(mine.values_list("outcome", flat=True)) == ["conversation", "refused"]


def test_a_story_note_being_written_survives_the_page_being_closed(phone, live_server, door):
    first = door["households"][0]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    card(phone, first).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    choose(form, "Rating before", "2")
    form.get_by_label("Their story, in your words").fill("Her son's insulin costs more than rent.")
    draft_story = """(async () => {
      const db = await new Promise((resolve) => {
        const open = indexedDB.open("porchlight-door");
        open.onsuccess = () => resolve(open.result);
      });
      const get = db.transaction("drafts").objectStore("drafts").getAll();
      const drafts = await new Promise((resolve) => { get.onsuccess = () => resolve(get.result); });
      return drafts.map((draft) => draft.payload.story_note.story);
    })()"""
    eventually(phone, draft_story, ["Her son's insulin costs more than rent."])

    context = phone.context
    phone.close()
    again = context.new_page()
    again.goto(door_url(live_server, door["token"]))
    form = again.locator("form.story")
    story = form.get_by_label("Their story, in your words")
    story.wait_for()
    assert story.input_value() == "Her son's insulin costs more than rent."
    assert (
        form.locator("fieldset")
        .filter(has_text="Rating before")
        .locator("input:checked")
        .get_attribute("value")
        == "2"
    )
    form.get_by_role("button", name="Save").click()
    again.wait_for_selector("li.door")
    waiting(again, 1)

    go_online(context)
    waiting(again, 0)
    note = StoryNote.objects.get(visit__assignment=door["assignment"])
    assert (note.rating_before, note.story) == (2, "Her son's insulin costs more than rent.")
    # Reopening does not bring the saved note back as a draft.
    again.reload()
    again.wait_for_selector("li.door")
    assert again.locator("form.story").count() == 0


def test_a_number_the_server_refuses_stays_on_the_phone_until_fixed(phone, live_server, door):
    first = door["households"][0]
    open_door(phone, live_server, door["token"])

    # Too short: caught on the phone before saving, nothing is lost from the form.
    card(phone, first).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    form.get_by_label("Why that number?").fill("Keep these words")
    block = add_commitment(form, what="Call back about the meeting", phone="555-12")
    form.get_by_role("button", name="Save").click()
    assert "does not look like a phone number" in block.locator(".error:not([hidden])").inner_text()
    assert block.get_by_label("Phone").get_attribute("aria-invalid") == "true"
    assert form.get_by_label("Why that number?").input_value() == "Keep these words"

    # Looks like a number to the phone, but no such area code: the server says no.
    block.get_by_label("Phone").fill("+1 555 555 0123")
    form.get_by_role("button", name="Save").click()
    saved_toast(phone)
    problem = phone.locator("#problems li.invalid")
    problem.wait_for(timeout=WAIT_MS)
    waiting(phone, 1)
    assert not Visit.objects.filter(assignment=door["assignment"]).exists()

    phone.reload()
    problem.get_by_role("button", name="Fix").click()
    block = phone.locator("fieldset.commitment")
    assert "not a valid phone number" in block.locator(".error:not([hidden])").inner_text()
    assert phone.get_by_label("Why that number?").input_value() == "Keep these words"
    block.get_by_label("Phone").fill("512-555-0199")
    phone.get_by_role("button", name="Save").click()
    waiting(phone, 0)
    commitment = Commitment.objects.get(visit__assignment=door["assignment"])
    assert commitment.phone == "+15125550199"


def test_a_conflict_is_kept_on_the_phone_for_the_organizer(phone, live_server, door, client):
    first = door["households"][0]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    not_contact(phone, first, "Not home")
    client_id = phone.evaluate(
        """(async () => {
          const db = await new Promise((resolve) => {
            const open = indexedDB.open("porchlight-door");
            open.onsuccess = () => resolve(open.result);
          });
          return await new Promise((resolve) => {
            const all = db.transaction("visits").objectStore("visits").getAllKeys();
            all.onsuccess = () => resolve(all.result[0]);
          });
        })()"""
    )
    # Meanwhile the server got a different visit under the same id.
    other = {
        "client_id": client_id,
        "happened_at": "2024-10-05T14:03:00-05:00",
        "outcome": "refused",
        "household_id": first.pk,
    }
    answer = client.post(
        f"/api/a/{door['token']}/visits", {"visits": [other]}, content_type="application/json"
    )
    assert answer.json()["results"][0]["status"] == 201

    go_online(phone.context)
    kept = phone.locator("#problems li.conflict")
    kept.wait_for(timeout=WAIT_MS)
    assert "Already saved differently" in kept.inner_text()
    waiting(phone, 1)
    phone.reload()
    kept.wait_for()
    waiting(phone, 1)
    assert Visit.objects.get(client_id=client_id).outcome == "refused"

    # Saved again as a new visit, it is delivered and the other one is left as it was.
    kept.get_by_role("button", name="Save as a new visit").click()
    phone.locator("form.story").get_by_role("button", name="Save").click()
    waiting(phone, 0)
    mine = Visit.objects.filter(assignment=door["assignment"])
    assert sorted(mine.values_list("outcome", flat=True)) == ["not_home", "refused"]
    assert Visit.objects.get(client_id=client_id).outcome == "refused"


def test_an_ended_link_keeps_unsent_notes_and_says_reach_your_organizer(phone, live_server, door):
    first, second, _ = door["households"]
    open_door(phone, live_server, door["token"])
    go_offline(phone.context)
    not_contact(phone, first, "Moved")
    conversation_on_phone(phone, second, who="Sam Ortiz")
    Assignment.objects.filter(pk=door["assignment"].pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    go_online(phone.context)
    banner = phone.locator("#banner")
    banner.wait_for(timeout=WAIT_MS)
    assert "This link has ended" in banner.inner_text()
    assert "reach your organizer" in banner.inner_text()
    assert "2 unsent notes are kept on this phone" in banner.inner_text()
    phone.get_by_role("button", name="Finish").click()
    assert "2 notes have not been sent yet" in phone.locator(".notice").inner_text()

    phone.reload()
    banner.wait_for()
    waiting(phone, 2)
    assert "reach your organizer" in banner.inner_text()
    assert not Visit.objects.filter(assignment=door["assignment"]).exists()

    # The organizer extends the link: the kept notes go through, then nothing stays.
    Assignment.objects.filter(pk=door["assignment"].pk).update(
        expires_at=timezone.now() + timedelta(hours=1)
    )
    phone.reload()
    waiting(phone, 0)
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 2


def test_people_leave_the_phone_once_delivered_and_the_link_has_ended(phone, live_server, door):
    open_door(phone, live_server, door["token"])
    not_contact(phone, door["households"][0])
    waiting(phone, 0)
    stored = STORED_LISTS
    assert phone.evaluate(stored) == 1

    assignment_revoke(assignment=door["assignment"])
    phone.reload()
    phone.locator("#banner").wait_for(timeout=WAIT_MS)
    assert "no longer holds anyone's details" in phone.locator("#banner").inner_text()
    eventually(phone, stored, 0)
    assert "Rosa" not in phone.locator("body").inner_text()


def test_another_links_list_leaves_once_its_time_is_up_and_nothing_waits(
    phone, live_server, door, campaign
):
    open_door(phone, live_server, door["token"])
    not_contact(phone, door["households"][0])
    waiting(phone, 0)
    # The phone's copy says the first link is over (as it will, once its shift is done).
    expire_the_copy = """(async () => {
          const db = await new Promise((resolve) => {
            const open = indexedDB.open("porchlight-door");
            open.onsuccess = () => resolve(open.result);
          });
          const store = db.transaction("bundles", "readwrite").objectStore("bundles");
          const all = store.getAll();
          await new Promise((resolve) => { all.onsuccess = resolve; });
          for (const record of all.result) {
            record.data.assignment.expires_at = "2000-01-01T00:00:00Z";
            store.put(record);
          }
        })()"""
    phone.evaluate(expire_the_copy)
    assert phone.evaluate(STORED_LISTS) == 1

    second = AssignmentFactory(turf__campaign=campaign)
    phone.goto(door_url(live_server, second.token))
    phone.wait_for_selector("li.door")
    tokens = """(async () => {
          const db = await new Promise((resolve) => {
            const open = indexedDB.open("porchlight-door");
            open.onsuccess = () => resolve(open.result);
          });
          const keys = db.transaction("bundles").objectStore("bundles").getAllKeys();
          return await new Promise((resolve) => { keys.onsuccess = () => resolve(keys.result); });
        })()"""
    # The phone's copy is stale: the server still has the first link live, so it stays.
    phone.wait_for_timeout(500)
    assert sorted(phone.evaluate(tokens)) == sorted([door["token"], second.token])

    Assignment.objects.filter(pk=door["assignment"].pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    phone.evaluate(expire_the_copy)
    phone.reload()
    phone.wait_for_selector("li.door")
    eventually(phone, tokens, [second.token])


def test_finish_asks_once_then_removes_the_walk_list(phone, live_server, door):
    open_door(phone, live_server, door["token"])
    not_contact(phone, door["households"][1], "Inaccessible")
    waiting(phone, 0)

    phone.get_by_role("button", name="Finish").click()
    assert "Everything is sent" in phone.locator(".notice").inner_text()
    assert phone.evaluate(STORED_LISTS) == 1
    phone.get_by_role("button", name="Yes, remove it").click()
    phone.get_by_text("This phone no longer holds anyone's details").wait_for()
    assert phone.evaluate(STORED_LISTS) == 0
    assert Visit.objects.filter(assignment=door["assignment"]).count() == 1


def test_fits_a_phone_with_big_enough_targets(phone, live_server, door):
    open_door(phone, live_server, door["token"])
    card(phone, door["households"][0]).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    add_commitment(form, what="Volunteer a shift")
    for where in ("form", "list"):
        if where == "list":
            form.get_by_role("button", name="Cancel").click()
            phone.wait_for_selector("li.door")
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 360
        small = phone.evaluate(
            """() => [...document.querySelectorAll(
                 'button, a, select, textarea, input:not([type=radio]):not([type=checkbox]),'
                 + ' label.chip, .check label')]
               .filter((node) => node.offsetParent !== null)
               .map((node) => [node.textContent.trim() || node.id, node.getBoundingClientRect()])
               .filter(([, box]) => box.height < 44 || box.width < 44)
               .map(([name, box]) => `${name}: ${box.width}x${box.height}`)"""
        )
        assert small == [], where


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious(phone, live_server, door):
    open_door(phone, live_server, door["token"])
    assert serious_violations(phone) == []

    card(phone, door["households"][0]).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    assert serious_violations(phone) == []

    add_commitment(form, what="", phone="555")
    form.get_by_role("button", name="Save").click()
    assert form.locator(".error:not([hidden])").count() >= 2
    assert serious_violations(phone) == []


def test_speaks_spanish_to_a_spanish_phone(browser, live_server, door):  # noqa: F811
    page = new_page(browser, "phone", locale="es-ES")
    try:
        open_door(page, live_server, door["token"])
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_role("button", name="Sincronizar ahora").is_visible()
        card(page, door["households"][2]).get_by_role("button", name="No está en casa").click()
        page.locator("#toast").wait_for(state="visible")
        assert page.locator("#toast").inner_text() == "Guardado en este teléfono"
        page.get_by_role("link", name="English").click()
        page.wait_for_selector("li.door")
        page.get_by_role("button", name="Sync now").wait_for()
    finally:
        page.context.close()
