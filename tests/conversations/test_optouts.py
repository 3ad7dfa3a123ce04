"""Opt-outs however they are worded, in English and Spanish; HELP in Spanish gets Spanish."""

import zoneinfo
from datetime import datetime

import pytest
import time_machine

from conversations.models import InboundSms, OptOut, Reminder, Step
from conversations.services import sms_inbound_handle
from conversations.services.inbound import sms_intent
from tests.factories import CommitmentFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MARIA = "+15125550123"

ENGLISH_STOPS = [
    "STOP ALL",
    "Stop please",
    "Please stop texting me",
    "Unsubscribe me",
    "ＳＴＯＰ",
    "ｓｔｏｐ ｐｌｅａｓｅ",
    "stop!!! I never signed up",
    "No, stop.",
    "pls stop",
    "Remove me from this list",
    "Don't text me again",
    "Wrong number",
    "Cancel, I don't want these",
    "STOP sending me these",
    "opt me out",
]
SPANISH_STOPS = [
    "ALTO",
    "alto por favor",
    "PARAR",
    "Basta",
    "BASTA YA",
    "CANCELAR",
    "No más mensajes",
    "no mas mensajes por favor",
    "Ｎｏ ｍáｓ",
    "Dejen de mandarme mensajes",
    "No me envíen más mensajes",
    "Ya no",
]
NOT_STOPS = [
    "stop by Tuesday?",
    "don't stop",
    "the end of the rent hike",
    "Can I bring my sister?",
    "See you there",
    "No más tarde de las 7",
    "Thanks! I can't wait for the meeting, my landlord hasn't fixed anything",
]


@pytest.mark.parametrize("body", ENGLISH_STOPS)
def test_english_ways_of_asking_to_stop(body):
    assert sms_intent(body) == ("stop", "en")


@pytest.mark.parametrize("body", SPANISH_STOPS)
def test_spanish_ways_of_asking_to_stop(body):
    assert sms_intent(body) == ("stop", "es")


@pytest.mark.parametrize("body", NOT_STOPS)
def test_messages_that_do_not_ask_to_stop(body):
    assert sms_intent(body)[0] != "stop"


@pytest.mark.parametrize(
    "body, intent", [("AYUDA", ("help", "es")), ("ayuda!", ("help", "es")), ("Sí", ("yes", "es"))]
)
def test_spanish_help_and_yes(body, intent):
    assert sms_intent(body) == intent


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("body", ["Please stop texting me", "ＳＴＯＰ", "No más mensajes"])
def test_a_worded_opt_out_stops_the_reminders(campaign, body):
    commitment = CommitmentFactory(campaign=campaign, phone=MARIA)
    ReminderFactory(campaign=campaign, commitment=commitment, to=MARIA, status=Reminder.Status.SENT)
    pending = ReminderFactory(campaign=campaign, commitment=commitment, to=MARIA, send_at=NOW)

    inbound = sms_inbound_handle(provider_id="SM1", from_number=MARIA, body=body)

    assert inbound.handled_as == InboundSms.Handling.OPT_OUT
    assert OptOut.objects.filter(address=MARIA).exists()
    pending.refresh_from_db()
    assert pending.status == Reminder.Status.SUPPRESSED


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "body, step, words",
    [
        ("AYUDA", Step.REPLY_HELP, "Responde ALTO"),
        ("BASTA", Step.REPLY_STOP, "te dimos de baja"),
        ("HELP", Step.REPLY_HELP, "Reply STOP to opt out"),
    ],
)
def test_replies_are_in_the_language_asked_in(campaign, body, step, words):
    ReminderFactory(campaign=campaign, to=MARIA, status=Reminder.Status.SENT)
    sms_inbound_handle(provider_id="SM2", from_number=MARIA, body=body)
    reply = Reminder.objects.get(step=step)
    assert words in reply.body
