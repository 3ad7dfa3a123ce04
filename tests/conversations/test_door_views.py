"""The door screen's page, service worker and manifest, without a browser."""

import json

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from conversations.door_views import DOOR_ASSETS
from tests.factories import PersonFactory
from turf.models import TurfStop
from turf.services import assignment_revoke

pytestmark = pytest.mark.django_db


def strings(response):
    html = response.content.decode()
    marker = '<script id="door-strings" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_live_link_opens_the_page_with_no_ones_data_in_it(client, assignment, campaign):
    assignment, token = assignment
    stop = TurfStop.objects.filter(turf=assignment.turf).first()
    PersonFactory(campaign=campaign, household=stop.household, first_name="Rosa")

    response = client.get(reverse("assignment_open", args=[token]))

    assert response.status_code == 200
    html = response.content.decode()
    assert static("door/app.js") in html and static("door/door.css") in html
    # Names and addresses come from the API into IndexedDB, never in the cached page.
    assert "Rosa" not in html and stop.household.street not in html
    assert assignment.turf.name not in html
    assert strings(response)["saved"] == "Saved on this phone"
    assert response["Cache-Control"] == "no-cache"


def test_ended_link_still_opens_the_page_so_kept_notes_can_be_sent(client, assignment):
    assignment, token = assignment
    assignment_revoke(assignment=assignment)

    response = client.get(reverse("assignment_open", args=[token]))

    assert response.status_code == 410
    assert static("door/app.js") in response.content.decode()
    assert "reach your organizer" in strings(response)["ended_unsent"]["other"]


def test_unknown_link_is_not_found(client, assignment):
    _, token = assignment
    assert client.get(reverse("assignment_open", args=[token[::-1]])).status_code == 404


def test_spanish_from_the_browser_or_the_toggle(client, assignment):
    _, token = assignment
    url = reverse("assignment_open", args=[token])

    spanish = client.get(url, headers={"accept-language": "es-MX,es;q=0.9"})
    assert strings(spanish)["saved"] == "Guardado en este teléfono"
    assert '<html lang="es">' in spanish.content.decode()

    toggled = client.get(url + "?lang=es")
    assert toggled.status_code == 302 and toggled["Location"] == url
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert strings(client.get(url))["sync_now"] == "Sincronizar ahora"

    client.get(url + "?lang=en")
    assert strings(client.get(url))["sync_now"] == "Sync now"


def test_service_worker_covers_every_link_and_caches_the_page_and_its_files(client):
    response = client.get(reverse("door_service_worker"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    # Served from /a/, so its default scope is every assignment link.
    assert reverse("door_service_worker").rsplit("/", 1)[0] + "/" == "/a/"
    body = response.content.decode()
    assets = json.loads(body.split("const ASSETS = ", 1)[1].split(";\n", 1)[0])
    assert reverse("door_shell") in assets
    assert {static(name) for name in DOOR_ASSETS} <= set(assets)


def test_the_cached_page_is_the_same_page_with_no_link(client, assignment):
    _, token = assignment
    shell = client.get(reverse("door_shell"))
    page = client.get(reverse("assignment_open", args=[token]))
    assert shell.status_code == 200
    assert shell.content == page.content


def test_manifest_starts_at_the_link(client, assignment):
    _, token = assignment
    response = client.get(reverse("door_manifest", args=[token]))
    data = json.loads(response.content)
    assert response["Content-Type"] == "application/manifest+json"
    assert (data["start_url"], data["scope"], data["display"]) == (".", "/a/", "standalone")


def test_every_door_string_has_spanish_in_each_plural_form(client, assignment):
    """Strings that read the same in both languages would be listed here; none do."""
    _, token = assignment
    english = strings(client.get(reverse("assignment_open", args=[token])))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    spanish = strings(client.get(reverse("assignment_open", args=[token])))
    assert set(spanish) == set(english)
    untranslated = [key for key in english if spanish[key] == english[key]]
    untranslated += [
        f"{key}.{form}"
        for key, value in english.items()
        if isinstance(value, dict)
        for form in ("one", "other")
        if spanish[key][form] == value[form]
    ]
    assert untranslated == []
    assert english["finish_unsent"]["one"].startswith("{n} note has")
    assert english["waiting"] == {
        "one": "{n} visit waiting to sync",
        "other": "{n} visits waiting to sync",
    }
    assert spanish["waiting"] == {
        "one": "{n} visita por sincronizar",
        "other": "{n} visitas por sincronizar",
    }
    assert spanish["ended_unsent"]["one"].startswith("Comunícate con tu organizador: {n} nota sin")
