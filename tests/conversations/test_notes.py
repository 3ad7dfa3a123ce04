"""A story note's words: organizers and field leads read them, a sensitive note's words only
organizers, and every reading of a sensitive note's words is audited."""

import pytest
from django.urls import reverse

from canvass.models import AuditEvent
from conversations.notes import READ_ACTION, WITHHELD
from tests.factories import PersonFactory, StoryNoteFactory, VisitFactory

pytestmark = pytest.mark.django_db

SECRET = "My brother has an immigration hearing in May"
OPEN = "Rent went up three hundred dollars"


@pytest.fixture
def maria(campaign, volunteer):
    person = PersonFactory(campaign=campaign, first_name="Maria", last_name="Reyes")
    StoryNoteFactory(
        visit=VisitFactory(campaign=campaign, person=person, volunteer=volunteer),
        story=SECRET,
        why="Family",
        sensitive=True,
        themes=["Immigration"],
    )
    StoryNoteFactory(
        visit=VisitFactory(campaign=campaign, person=person, volunteer=volunteer),
        story=OPEN,
        themes=["Housing"],
    )
    return person


def _page(client, campaign, person):
    return client.get(reverse("person_detail", args=[campaign.slug, person.pk]))


def test_an_organizer_reads_a_sensitive_note_and_the_reading_is_audited(
    client, campaign, organizer, maria
):
    client.force_login(organizer)
    page = _page(client, campaign, maria).content.decode()
    assert SECRET in page and OPEN in page
    reading = AuditEvent.objects.get(action=READ_ACTION)
    assert reading.actor == organizer
    assert reading.campaign == campaign
    assert reading.detail["via"] == "person page"
    assert SECRET not in str(reading.detail) and "Family" not in str(reading.detail)
    # Every reading, not only the first.
    _page(client, campaign, maria)
    assert AuditEvent.objects.filter(action=READ_ACTION).count() == 2


def test_a_field_lead_reads_ordinary_notes_but_not_sensitive_ones(
    client, campaign, field_lead, maria
):
    client.force_login(field_lead)
    response = _page(client, campaign, maria)
    page = response.content.decode()
    assert response.status_code == 200
    assert OPEN in page
    assert SECRET not in page and "Family" not in page
    assert WITHHELD in page
    assert "Immigration" in page  # the numbers and themes still show
    assert not AuditEvent.objects.filter(action=READ_ACTION).exists()


def test_another_campaigns_organizer_and_anonymous_read_nothing(client, campaign, outsider, maria):
    assert _page(client, campaign, maria).status_code == 302  # to the login page
    client.force_login(outsider)
    assert _page(client, campaign, maria).status_code == 404
    own = outsider.memberships.get().campaign.slug
    assert client.get(reverse("person_detail", args=[own, maria.pk])).status_code == 404


def test_the_admin_shows_a_sensitive_note_only_to_the_campaigns_organizers(
    client, campaign, organizer, maria, django_user_model
):
    note = maria.visits.get(story_note__sensitive=True).story_note
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    change = reverse("admin:conversations_storynote_change", args=[note.pk])
    page = client.get(change).content.decode()
    assert SECRET not in page and WITHHELD in page
    listing = client.get(reverse("admin:conversations_storynote_changelist"), {"q": "brother"})
    assert SECRET not in listing.content.decode()
    visit = client.get(reverse("admin:conversations_visit_change", args=[note.visit_id]))
    assert SECRET not in visit.content.decode()
    assert not AuditEvent.objects.filter(action=READ_ACTION).exists()

    organizer.is_staff = organizer.is_superuser = True
    organizer.save()
    client.force_login(organizer)
    assert SECRET in client.get(change).content.decode()
    assert AuditEvent.objects.get(action=READ_ACTION).detail["via"] == "admin"
