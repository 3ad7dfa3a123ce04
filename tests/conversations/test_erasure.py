"""Forgetting a person on request: one audited transaction erases them everywhere."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from canvass.models import AuditEvent
from conversations.models import (
    Channel,
    Commitment,
    FollowUpEvent,
    HeldVisit,
    InboundSms,
    OptOut,
    Reminder,
    StoryNote,
    Visit,
)
from conversations.services import commitment_record, sms_inbound_handle
from conversations.stats import campaign_followthrough
from tests.factories import HouseholdFactory, PersonFactory, StoryNoteFactory, VisitFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NAME, SURNAME = "Marisol", "Quintanilla"
PHONE = "+15125550177"
EMAIL = "marisol.q@example.org"
TRACES = [NAME, SURNAME, PHONE, PHONE[2:], EMAIL, "immigration", "Dad's clinic"]


def rows_containing(text):
    """{table: rows} for every table in the database with a row whose text holds `text`."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*) FROM {quoted} AS t WHERE t::text ILIKE %s", [f"%{text}%"]
            )
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


@pytest.fixture
def marisol(campaign, volunteer, organizer):
    """A person with everything Porchlight can hold about someone."""
    campaign.commitment_kinds = [{"code": "meeting", "label": "Come to a meeting"}]
    campaign.save()
    person = PersonFactory(
        campaign=campaign,
        household=HouseholdFactory(campaign=campaign),
        first_name=NAME,
        last_name=SURNAME,
        phone=PHONE,
        email=EMAIL,
        external_id="NC-12345",
    )
    visit = VisitFactory(
        campaign=campaign, person=person, volunteer=volunteer, note=f"{NAME} asked us back"
    )
    StoryNoteFactory(
        visit=visit,
        rating_before=3,
        rating_after=7,
        themes=["Health care"],
        why=f"{NAME} said: Dad's clinic closed",
        story="Her mother's immigration case",
        values_feelings="Family first",
        sensitive=True,
    )
    soon = timezone.now() + timedelta(days=6)
    texted = commitment_record(
        campaign=campaign,
        kind="meeting",
        what=f"{NAME} comes to the Tuesday meeting",
        person=person,
        visit=visit,
        when=soon,
        owner=organizer,
        channel=Channel.SMS,
        phone=PHONE,
    )
    kept = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The library meeting",
        person=person,
        visit=visit,
        owner=organizer,
        channel=Channel.EMAIL,
        email=EMAIL,
    )
    Commitment.objects.filter(pk=kept.pk).update(status=Commitment.Status.KEPT)
    Reminder.objects.filter(commitment=kept).update(status=Reminder.Status.SENT)
    FollowUpEvent.objects.create(
        commitment=kept,
        outcome=FollowUpEvent.Outcome.KEPT,
        note=f"{NAME} brought a neighbour",
        status_before=Commitment.Status.OPEN,
        status_after=Commitment.Status.KEPT,
        by=organizer,
    )
    HeldVisit.objects.create(
        client_id="00000000-0000-4000-8000-0000000000aa",
        campaign=campaign,
        payload={"person_id": person.pk, "story_note": {"story": f"{NAME}: immigration"}},
        problem=HeldVisit.Problem.choices[0][0],
    )
    sms_inbound_handle(provider_id="SM1", from_number=PHONE, body=f"Yes! {NAME} here")
    sms_inbound_handle(provider_id="SM2", from_number=PHONE, body="STOP")
    assert texted.reminders.filter(status=Reminder.Status.SUPPRESSED).exists()
    return person


def _counts(campaign):
    notes = StoryNote.objects.filter(visit__campaign=campaign)
    return {
        "visits": Visit.objects.filter(campaign=campaign).count(),
        "conversations": Visit.objects.filter(campaign=campaign, outcome="conversation").count(),
        "ratings": sorted(notes.values_list("rating_before", "rating_after")),
        "themes": sorted(map(tuple, notes.values_list("themes", flat=True))),
        "commitments": sorted(
            Commitment.objects.filter(campaign=campaign).values_list("kind", flat=True)
        ),
        "kept": campaign_followthrough(campaign, breakdowns=False).total.kept,
        "people": campaign.people.count(),
    }


def test_forgetting_erases_them_from_every_table_and_keeps_the_numbers(
    client, campaign, organizer, marisol
):
    for trace in TRACES:
        assert rows_containing(trace), f"the fixture should have put {trace!r} somewhere"
    before = _counts(campaign)
    client.force_login(organizer)
    url = reverse("person_forget", args=[campaign.slug, marisol.pk])
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302

    for trace in TRACES:
        assert rows_containing(trace) == {}, trace
    assert _counts(campaign) == before
    marisol.refresh_from_db()
    assert marisol.forgotten_at is not None and marisol.household is None
    assert not InboundSms.objects.exists()
    assert not Reminder.objects.filter(status=Reminder.Status.PENDING).exists()
    assert set(Commitment.objects.values_list("status", flat=True)) == {"cancelled", "kept"}
    audit = AuditEvent.objects.get(action="person.forget")
    assert (audit.actor, audit.target, audit.detail) == (organizer, f"person:{marisol.pk}", {})

    # Never texted again: the opt-out survives as a hash, and a new commitment to the same
    # number (a new conversation, a re-imported voter file) plans nothing for them.
    assert OptOut.is_opted_out(PHONE) and OptOut.is_opted_out(EMAIL)
    again = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Another meeting",
        person=PersonFactory(campaign=campaign, phone=PHONE),
        when=timezone.now() + timedelta(days=6),
        channel=Channel.SMS,
        phone=PHONE,
    )
    assert not again.reminders.filter(recipient_kind=Reminder.Recipient.PERSON).exists()


def test_a_pending_reminder_is_cancelled_when_its_person_is_forgotten(
    client, campaign, organizer, volunteer
):
    person = PersonFactory(campaign=campaign, first_name=NAME, phone=PHONE)
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The meeting",
        person=person,
        when=timezone.now() + timedelta(days=6),
        channel=Channel.SMS,
        phone=PHONE,
        owner=organizer,
    )
    pending = list(commitment.reminders.filter(status=Reminder.Status.PENDING))
    assert len(pending) >= 2  # the person's and the owner's
    client.force_login(organizer)
    client.post(reverse("person_forget", args=[campaign.slug, person.pk]), {"confirm": "on"})
    for reminder in pending:
        reminder.refresh_from_db()
        assert reminder.status == Reminder.Status.CANCELLED
        assert reminder.to == reminder.body == ""


def test_only_the_campaigns_organizer_forgets_and_only_when_confirmed(
    client, campaign, field_lead, outsider, organizer, marisol
):
    url = reverse("person_forget", args=[campaign.slug, marisol.pk])
    client.force_login(field_lead)
    assert client.post(url, {"confirm": "on"}).status_code == 403
    client.force_login(outsider)
    assert client.post(url, {"confirm": "on"}).status_code == 404
    client.force_login(organizer)
    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.content.decode()
    marisol.refresh_from_db()
    assert marisol.forgotten_at is None and marisol.first_name == NAME
    assert not AuditEvent.objects.filter(action="person.forget").exists()
    assert client.get(url).status_code == 405
