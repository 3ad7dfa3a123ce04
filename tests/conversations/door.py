"""Helpers shared by the door screen's tests: the sync API as a phone calls it, the items
a phone sends, and the headless-Chromium moves of a volunteer (tests/browser.py serves
the browser itself).
"""

import json
import time
import uuid
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from conversations.models import StoryNote, Visit
from tests.factories import TurfFactory
from turf.models import Household, Person, TurfStop

# Reminders are planned from a commitment's time, so it must lie ahead.
MEETING = (timezone.now() + timedelta(days=6)).replace(hour=23, minute=0, second=0, microsecond=0)

LINK_ENDED = (
    "This assignment link has ended. Your notes are safe on your phone — "
    "please reach your organizer."
)


# --- The sync API, as a phone calls it --------------------------------------------


def bundle(phone, token):
    return phone.get(reverse("sync_bundle", args=[token]))


def send(phone, token, *items):
    return phone.post(
        reverse("sync_visits", args=[token]),
        data=json.dumps({"visits": list(items)}),
        content_type="application/json",
    )


def results(phone, token, *items):
    response = send(phone, token, *items)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def doors(assignment):
    return [stop.household for stop in assignment.turf.stops.order_by("position")]


def knock(household, **fields):
    item = {
        "client_id": str(uuid.uuid4()),
        "happened_at": "2024-10-05T14:03:00-05:00",
        "outcome": "not_home",
        "household_id": household.pk if household else None,
    }
    return {**item, **fields}


def conversation(household, **fields):
    return knock(
        household,
        outcome="conversation",
        story_note={
            "rating_before": 4,
            "rating_after": 6,
            "why": "Rent went up twice this year.",
            "themes": ["Housing", "Family"],
            "story": "She works two jobs and still falls behind.",
            "canvasser_shared_story": True,
            "values_feelings": "Fairness; worry for her kids.",
            "sensitive": False,
            "self_rating": 7,
        },
        **fields,
    )


def sms_commitment(**fields):
    return {
        "kind": "meeting",
        "what": "Tenants' meeting at the library",
        "when": MEETING.isoformat(),
        "owner_id": None,
        "channel": "sms",
        "phone": "512-555-0123",
        "email": "",
        **fields,
    }


def walk_list(campaign, *, doors, name, visits_per_door=1):
    """A turf of `doors` households (two people each, `visits_per_door` earlier
    conversations each), made with bulk inserts so that a 1,000-door turf is quick to build."""
    turf = TurfFactory(campaign=campaign, name=name)
    households = Household.objects.bulk_create(
        Household(
            campaign=campaign,
            house_number=str(n),
            street=f"{name} Street",
            address_key=f"{n} {name} street",
            lat=30.0 + n / 1000,
            lng=-97.0,
        )
        for n in range(1, doors + 1)
    )
    TurfStop.objects.bulk_create(
        TurfStop(turf=turf, household=h, position=n) for n, h in enumerate(households, 1)
    )
    Person.objects.bulk_create(
        Person(campaign=campaign, household=h, first_name=first, last_name="Neighbor")
        for h in households
        for first in ("Ana", "Ben")
    )
    visits = Visit.objects.bulk_create(
        Visit(
            campaign=campaign,
            household=h,
            outcome=Visit.Outcome.CONVERSATION,
            happened_at=timezone.now() - timedelta(days=7 + n),
        )
        for h in households
        for n in range(visits_per_door)
    )
    StoryNote.objects.bulk_create(
        StoryNote(visit=v, themes=["Housing"], story="An earlier story.") for v in visits
    )
    return turf


# --- The door screen in a browser ---------------------------------------------------

WAIT_MS = 20_000


def door_url(live_server, token):
    return live_server.url + reverse("assignment_open", args=[token])


def open_door(page, live_server, token):
    page.goto(door_url(live_server, token))
    page.wait_for_selector("li.door")
    # The service worker must hold the page before the network can go away.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def card(page, household):
    return page.locator(f"#h-{household.pk}")


def waiting(page, count):
    page.wait_for_function(
        f"document.querySelector('#pending').dataset.count === '{count}'", timeout=WAIT_MS
    )


def _cut_off(route):
    route.abort("internetdisconnected")


def go_offline(context):
    """No signal. Chromium's offline emulation alone can miss requests from a page a
    service worker controls, so the API is also cut off at the network layer."""
    context.set_offline(True)
    context.route("**/api/**", _cut_off)


def go_online(context):
    context.unroute("**/api/**", _cut_off)
    context.set_offline(False)


def eventually(page, expression, expected):
    """Poll an expression that returns a promise (IndexedDB answers asynchronously)
    until it gives `expected`; wait_for_function would take the promise itself as truthy."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (value := page.evaluate(expression)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert value == expected


def stored(page, queryset, expected):
    """Poll the server's rows until `queryset` counts `expected`: the pending counter can
    read 0 before a tap's save has been queued, so it alone does not say the row arrived."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (count := queryset.count()) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert count == expected


def saved_toast(page):
    """Wait for "Saved on this phone": a toast of an earlier event ("Everything is sent")
    may still be showing when the tap's save has not yet finished."""
    from playwright.sync_api import expect

    expect(page.locator("#toast")).to_have_text("Saved on this phone", timeout=WAIT_MS)


def not_contact(page, household, outcome="Not home", note=""):
    if note:
        card(page, household).locator("input.note").fill(note)
    card(page, household).get_by_role("button", name=outcome, exact=True).click()
    saved_toast(page)


def choose(form, legend, value):
    form.locator("fieldset").filter(
        has=form.page.locator("legend", has_text=legend)
    ).first.get_by_text(value, exact=True).click()


def fill_conversation(page, household=None, *, who=None, new_person=None, place=""):
    """Open the conversation form and write a whole story note in it; returns the form."""
    if household is None:
        page.get_by_role("button", name="Conversation away from the list").click()
    else:
        card(page, household).get_by_role("button", name="Conversation").click()
    form = page.locator("form.story")
    if place:
        form.get_by_label("Where (event, table, place)").fill(place)
    if who:
        choose(form, "Who did you talk with?", who)
    if new_person:
        choose(form, "Who did you talk with?", "Someone new")
        form.get_by_label("First name").fill(new_person)
    choose(form, "Rating before", "3")
    form.get_by_label("Why that number?").fill("Rent went up twice this year.")
    form.get_by_text("Housing", exact=True).click()
    form.get_by_text("Family", exact=True).click()
    form.get_by_label("Their story, in your words").fill("She works two jobs to keep the flat.")
    form.get_by_text("I shared a story of my own").click()
    form.get_by_label("Values and feelings you heard").fill("Fairness; worry for her kids.")
    choose(form, "Rating after", "7")
    assert form.locator("output.shift").inner_text() == "Shift: +4 (canvasser-reported)"
    choose(form, "How well did you listen?", "8")
    return form


def conversation_on_phone(
    page, household=None, *, who=None, new_person=None, place="", commitment=None
):
    form = fill_conversation(page, household, who=who, new_person=new_person, place=place)
    if commitment:
        add_commitment(form, **commitment)
    form.get_by_role("button", name="Save").click()
    saved_toast(page)
    page.wait_for_selector("li.door")


def add_commitment(form, *, what, phone="", channel="Text message", owner=None):
    form.get_by_role("button", name="Add a commitment").click()
    block = form.locator("fieldset.commitment").last
    block.get_by_label("Kind").select_option("meeting")
    block.get_by_label("What exactly").fill(what)
    block.get_by_label("When").fill("2030-05-04T18:30")
    if owner:
        block.get_by_label("Who follows up").select_option(label=owner)
    block.get_by_text(channel, exact=True).click()
    if phone:
        block.get_by_label("Phone").fill(phone)
    return block


def idb(page, script):
    """Run `script` (the body of an async function given `db`, the door screen's
    IndexedDB) in the page and return its result."""
    return page.evaluate(
        """(async () => {
          const db = await new Promise((resolve, reject) => {
            const open = indexedDB.open("porchlight-door");
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
          });
          const ask = (request) => new Promise((resolve, reject) => {
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          try { SCRIPT } finally { db.close(); }
        })()""".replace("SCRIPT", script)
    )


# How many walk lists the phone's IndexedDB holds.
STORED_LISTS = """(async () => {
  const db = await new Promise((resolve) => {
    const open = indexedDB.open("porchlight-door");
    open.onsuccess = () => resolve(open.result);
  });
  return await new Promise((resolve) => {
    const count = db.transaction("bundles").objectStore("bundles").count();
    count.onsuccess = () => { db.close(); resolve(count.result); };
  });
})()"""
