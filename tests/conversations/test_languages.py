"""In the person's language: a person's reminders and replies go out in the language recorded
for them at the door or in the voter file, else in the campaign's; each template exists per
language, and every default wording has its Spanish."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from canvass.models import language_code
from conversations.models import (
    DEFAULT_MESSAGE_TEMPLATES,
    Channel,
    MessageTemplate,
    Reminder,
    Step,
    template_fields,
)
from conversations.services import commitment_record, reminder_send, sms_inbound_handle
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2026, 10, 29, 19, 0, tzinfo=CHICAGO)
ANA = "+15125550177"

frozen = time_machine.travel(NOW, tick=False)


def record(campaign, *, language="", channel=Channel.SMS, **contact):
    person = PersonFactory(campaign=campaign, first_name="Ana", language=language)
    contact = contact or {"phone": ANA}
    return commitment_record(
        campaign=campaign,
        kind="meeting",
        what="La reunión de inquilinos",
        person=person,
        when=MEETING,
        channel=channel,
        **contact,
    )


def confirmation(commitment):
    return commitment.reminders.get(step=Step.CONFIRM)


@pytest.mark.parametrize("recorded", ["es", "Spanish", "SPA", "Español", "es-MX"])
@frozen
def test_a_person_recorded_as_spanish_speaking_gets_spanish(campaign, recorded):
    body = confirmation(record(campaign, language=recorded)).body
    assert body.startswith("Hola Ana, soy un voluntario de ")
    assert "jueves 29 de octubre a las 19:00" in body
    assert "Responda SI para confirmar" in body and "STOP" in body


@frozen
def test_without_a_recorded_language_the_campaigns_is_used(campaign):
    assert confirmation(record(campaign)).body.startswith("Hi Ana, it's a volunteer")
    campaign.language = "es"
    campaign.save()
    assert confirmation(record(campaign)).body.startswith("Hola Ana")
    # A language Porchlight does not speak falls back to the campaign's too.
    assert confirmation(record(campaign, language="Tagalog")).body.startswith("Hola Ana")


@frozen
def test_an_email_in_spanish_has_a_spanish_subject(campaign):
    commitment = record(campaign, language="es", channel=Channel.EMAIL, email="ana@example.org")
    row = confirmation(commitment)
    assert row.subject == "Dijo que sí: La reunión de inquilinos, jueves 29 de octubre a las 19:00"
    assert row.body.startswith("Hola Ana:")


@frozen
def test_the_campaigns_own_wording_is_per_language(campaign):
    MessageTemplate.objects.create(
        campaign=campaign,
        step=Step.CONFIRM,
        channel=Channel.SMS,
        language="en",
        body="Thanks {first_name}! {what}, {when}. Reply STOP to opt out.",
    )
    MessageTemplate.objects.create(
        campaign=campaign,
        step=Step.CONFIRM,
        channel=Channel.SMS,
        language="es",
        body="¡Gracias {first_name}! {what}, {when}. Responda STOP para salir.",
    )
    assert confirmation(record(campaign)).body.startswith("Thanks Ana!")
    assert confirmation(record(campaign, language="es")).body.startswith("¡Gracias Ana!")
    # Spanish wording of its own for one step only: the other steps use the Spanish default.
    later = record(campaign, language="es").reminders.get(step=Step.DAY_BEFORE)
    assert later.body.startswith("Hola Ana, soy un voluntario")


@pytest.mark.parametrize("said", ["YES", "Sí"])
def test_replies_go_out_in_the_persons_language(campaign, said):
    with time_machine.travel(NOW, tick=False) as clock:
        commitment = record(campaign, language="es")
        assert reminder_send(reminder_id=confirmation(commitment).pk) == Reminder.Status.SENT
        clock.move_to(NOW + timedelta(minutes=5))
        sms_inbound_handle(provider_id=f"SM-{said}", from_number=ANA, body=said)
    reply = commitment.reminders.get(step=Step.REPLY_YES)
    assert reply.body.startswith("¡Gracias, Ana! Nos vemos el jueves 29 de octubre")


def test_help_from_a_spanish_speaker_is_answered_in_spanish_whatever_the_word(campaign):
    with time_machine.travel(NOW, tick=False):
        commitment = record(campaign, language="es")
        reminder_send(reminder_id=confirmation(commitment).pk)
        sms_inbound_handle(provider_id="SM-help", from_number=ANA, body="HELP")
    reply = Reminder.objects.get(step=Step.REPLY_HELP)
    assert "recordatorios de lo que acordaste" in reply.body


def test_every_default_wording_has_its_spanish():
    untranslated = []
    for (step, channel), (subject, body) in DEFAULT_MESSAGE_TEMPLATES.items():
        for english in filter(None, (subject, body)):
            with translation.override("es"):
                spanish = gettext(english)
            if spanish == english:
                untranslated.append((step, channel, english[:40]))
                continue
            # The same placeholders, and texts to people still say how to stop.
            assert set(template_fields(spanish)) == set(template_fields(english)), english
            if "STOP" in english:
                assert "STOP" in spanish or "ALTO" in spanish, spanish
    assert untranslated == []


def test_language_codes_from_how_files_write_them():
    assert [language_code(v) for v in ["es", "SPA", "spanish", "Español", "es_US"]] == ["es"] * 5
    assert [language_code(v) for v in ["en", "ENG", "English", "en-US"]] == ["en"] * 4
    assert [language_code(v) for v in ["", "Tagalog", "vi"]] == ["", "", ""]


def test_the_wording_page_keeps_one_template_per_language(client, campaign, organizer):
    client.force_login(organizer)
    new = reverse("message_template_new", args=[campaign.slug])
    page = client.get(new, {"step": "confirm", "channel": "sms", "language": "es"})
    assert "Hola {first_name}, soy {canvasser}" in page.content.decode()
    listing = client.get(reverse("message_templates", args=[campaign.slug])).content.decode()
    assert "Hola {first_name}, soy {canvasser}" in listing and "Español" in listing
    for language, body in (
        ("en", "Hi {what}. Reply STOP to opt out."),
        ("es", "Hola {what}. STOP"),
    ):
        saved = client.post(
            new, {"step": "confirm", "channel": "sms", "language": language, "body": body}
        )
        assert saved.status_code == 302, saved.content.decode()
    again = client.post(
        new, {"step": "confirm", "channel": "sms", "language": "es", "body": "Otra. STOP"}
    )
    assert again.status_code == 400
    assert sorted(campaign.message_templates.values_list("language", flat=True)) == ["en", "es"]
