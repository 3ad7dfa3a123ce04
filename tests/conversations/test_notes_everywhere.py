# ruff: noqa: F811 (the fixtures imported from tests.test_authorization)
"""A sensitive note's words, looked for on every page, in every export and in the API:
shown only to the campaign's organizers, and never without an audit row for the reading.

The pages come from the URL configuration (tests/test_authorization.py), so a new page
that shows the words without going through conversations.notes fails here.
"""

import pytest
from django.test import Client
from django.urls import reverse

from canvass.models import AuditEvent
from conversations.models import HeldVisit
from exports.kinds import KINDS
from tests.exports.conftest import read_rows, run_export
from tests.factories import StoryNoteFactory, VisitFactory
from tests.test_authorization import (  # noqa: F401 (the `world` fixture)
    PATTERNS,
    _kwargs,
    url_patterns,
    world,
)

pytestmark = pytest.mark.django_db

SECRET = "Her brother has a deportation hearing in May"
WHY = "Family kept apart by the border"
READINGS = ("story_note.read", "held_visits.read")


@pytest.fixture
def secret_note(world):
    campaign = world["campaign"]
    person = campaign.people.get(pk=world["pk"]["person_detail"])
    visit = VisitFactory(campaign=campaign, household=person.household, person=person)
    return StoryNoteFactory(visit=visit, story=SECRET, why=WHY, values_feelings=WHY, sensitive=True)


def _readings():
    return AuditEvent.objects.filter(action__in=READINGS).count()


def _get(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode("utf-8", "replace")


@pytest.mark.parametrize("persona", ["field_lead", "organizer", "volunteer_role"])
def test_no_page_shows_a_sensitive_note_unaudited_or_to_anyone_but_organizers(
    world, secret_note, persona
):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][persona])
    patterns = dict(url_patterns())
    shown_on = []
    for name in PATTERNS:
        if name in ("logout",):
            continue
        url = reverse(name, kwargs=_kwargs(name, patterns[name], world))
        before = _readings()
        status, body = _get(client, url)
        assert status < 500, f"{name}: {status}"
        if SECRET in body or WHY in body:
            shown_on.append(name)
            assert _readings() > before, f"{name} showed the words and recorded no reading"
    if persona == "organizer":
        assert "person_detail" in shown_on
    else:
        assert shown_on == [], f"{persona} read a sensitive note on {shown_on}"


def test_the_walk_list_never_carries_a_note_s_words(world, secret_note):
    for token in world["tokens"].values():
        status, body = _get(Client(), reverse("sync_bundle", args=[token]))
        assert SECRET not in body and WHY not in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_export_holds_a_sensitive_note_only_when_an_organizer_asks_and_is_audited(
    world, secret_note, kind, fmt
):
    campaign = world["campaign"]

    def words_in(job):
        cells = [str(cell) for row in read_rows(job) for cell in row]
        return any(SECRET in cell or WHY in cell for cell in cells)

    for persona in ("field_lead", "organizer"):
        before = AuditEvent.objects.filter(action="story_note.read").count()
        job = run_export(campaign, world["users"][persona], kind=kind, fmt=fmt)
        assert not words_in(job), f"{kind} as {persona}, not asked for"
        assert AuditEvent.objects.filter(action="story_note.read").count() == before

    kind_obj = KINDS[kind]
    story_columns = [c.key for c in kind_obj.columns(campaign) if c.story_text]
    if not story_columns:
        return
    job = run_export(
        campaign,
        world["users"]["organizer"],
        kind=kind,
        fmt=fmt,
        columns=[c.key for c in kind_obj.columns(campaign)],
        include_sensitive=True,
    )
    assert words_in(job)
    reading = AuditEvent.objects.get(action="story_note.read")
    assert reading.actor == world["users"]["organizer"]
    assert reading.target == f"story_note:{secret_note.pk}"
    assert reading.detail == {
        "via": f"export: {kind}",
        "visit": secret_note.visit_id,
        "export": job.pk,
    }


def test_a_held_visits_sensitive_story_is_shown_to_organizers_with_the_reading_audited(world):
    held = HeldVisit.objects.get(pk=world["pk"]["held_visit_done"])
    held.payload = {"outcome": "conversation", "story_note": {"story": SECRET, "sensitive": True}}
    held.save()
    organizer = Client()
    organizer.force_login(world["users"]["organizer"])
    url = reverse("held_visits", args=[world["campaign"].slug])

    status, body = _get(organizer, url)

    assert status == 200 and SECRET in body
    reading = AuditEvent.objects.get(action="held_visits.read")
    assert reading.actor == world["users"]["organizer"] and SECRET not in str(reading.detail)
