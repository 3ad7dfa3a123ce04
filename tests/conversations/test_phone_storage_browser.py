"""What a phone still holds after its link ends, read from every place a page can keep
something in headless Chromium: each IndexedDB database and store, localStorage,
sessionStorage, and every response in Cache Storage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import HeldVisit
from tests.browser import browser, new_page  # noqa: F401 (fixtures)
from tests.conversations.door import (
    WAIT_MS,
    card,
    choose,
    not_contact,
    open_door,
    waiting,
)
from turf.models import Assignment
from turf.services import assignment_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERYTHING_STORED = """(async () => {
  const out = { indexeddb: {}, local: {}, session: {}, caches: {} };
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    for (const store of db.objectStoreNames) {
      out.indexeddb[`${name}/${store}`] = await new Promise((resolve) => {
        const all = db.transaction(store).objectStore(store).getAll();
        all.onsuccess = () => resolve(all.result);
      });
    }
    db.close();
  }
  for (let i = 0; i < localStorage.length; i++) {
    out.local[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
  }
  for (let i = 0; i < sessionStorage.length; i++) {
    out.session[sessionStorage.key(i)] = sessionStorage.getItem(sessionStorage.key(i));
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      out.caches[`${name} ${request.url}`] = await (await cache.match(request)).text();
    }
  }
  return JSON.stringify(out);
})()"""


@pytest.fixture
def phone(browser):  # noqa: F811
    page = new_page(browser, "phone")
    yield page
    page.context.close()


def secrets_on(phone, words):
    stored = phone.evaluate(EVERYTHING_STORED)
    return [word for word in words if word in stored], stored


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_phone_holds_no_ones_details_once_its_link_ends(phone, live_server, door, how):
    first, second, _third = door["households"]
    open_door(phone, live_server, door["token"])
    not_contact(phone, second, note="Dog in the yard, knock loud")
    waiting(phone, 0)
    # A story half typed when the link ends, kept as a draft.
    card(phone, first).get_by_role("button", name="Conversation").click()
    form = phone.locator("form.story")
    choose(form, "Rating before", "2")
    form.get_by_label("Their story, in your words").fill("Her son is in county jail")
    words = [
        "Rosa",
        "Diaz",
        "Ortiz",
        first.street,
        "Her son is in county jail",
        "Dog in the yard",
        door["token"],
    ]
    deadline = timezone.now() + timedelta(milliseconds=WAIT_MS)
    while "Her son is in county jail" not in secrets_on(phone, words)[0]:
        assert timezone.now() < deadline, "the draft was never stored"
        phone.wait_for_timeout(100)
    found, _ = secrets_on(phone, words)
    assert "Rosa" in found and first.street in found  # the walk list is on the phone

    if how == "revoked":
        assignment_revoke(assignment=door["assignment"])
    else:
        Assignment.objects.filter(pk=door["assignment"].pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    phone.reload()
    phone.get_by_text("This phone no longer holds anyone's details").wait_for(timeout=WAIT_MS)

    deadline = timezone.now() + timedelta(milliseconds=WAIT_MS)
    while (found := secrets_on(phone, words)[0]) and timezone.now() < deadline:
        phone.wait_for_timeout(100)
    assert found == [], secrets_on(phone, words)[1][:2000]
    assert not HeldVisit.objects.exists()  # nothing was undeliverable, nothing handed over
