"""Texts people send back: STOP and its cousins, HELP, YES and NO, and the signature check."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.http import QueryDict

from conversations.models import Channel, Commitment, InboundSms, OptOut, Reminder, Step
from conversations.services import commitment_record, reminder_send, sms_keyword
from conversations.webhooks import twilio_signature
from tests.conftest import Sms
from tests.factories import CampaignFactory, PersonFactory, ReminderFactory

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NOW = datetime(2024, 10, 8, 12, 0, tzinfo=CHICAGO)
MEETING = datetime(2024, 10, 17, 19, 0, tzinfo=CHICAGO)
MARIA = "+15125550123"
TOKEN = "twilio-test-auth-token"
URL = "/webhooks/sms/twilio"

frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture(autouse=True)
def _token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


@pytest.fixture(autouse=True)
def _frozen():
    # Fixtures too (the confirmation sent at the door) happen at NOW.
    with time_machine.travel(NOW, tick=False):
        yield


def text(client, body, *, sender=MARIA, sid=None, signature=None):
    """POST a text as Twilio would, signed with the test token unless told otherwise."""
    params = {
        "MessageSid": sid or f"SM{abs(hash((body, sender, str(datetime.now())))):030d}"[:34],
        "From": sender,
        "To": "+15125550000",
        "Body": body,
        "AccountSid": "AC123",
    }
    qd = QueryDict(mutable=True)
    qd.update(params)
    if signature is None:
        signature = twilio_signature(auth_token=TOKEN, url="http://testserver" + URL, params=qd)
    return client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


def send_pending(to=MARIA):
    """Run the outbox for `to`, as a worker would."""
    for reminder in Reminder.objects.filter(to=to, status=Reminder.Status.PENDING):
        if reminder.send_at <= datetime.now(CHICAGO):
            reminder_send(reminder_id=reminder.pk)


@pytest.fixture
def confirmed_meeting(campaign):
    """Maria said yes at the door; her confirmation text has gone out."""
    campaign.sender_name = "the tenants' campaign"
    campaign.save()
    maria = PersonFactory(campaign=campaign, first_name="Maria")
    commitment = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="The tenants' meeting at the library",
        person=maria,
        when=MEETING,
        channel=Channel.SMS,
        phone=MARIA,
    )
    send_pending()
    assert commitment.reminders.get(step=Step.CONFIRM).status == Reminder.Status.SENT
    return commitment


# --- The signature -------------------------------------------------------------------


def test_signature_matches_twilios_documented_example():
    params = QueryDict(mutable=True)
    params.update(
        {
            "CallSid": "CA1234567890ABCDE",
            "Caller": "+14158675309",
            "Digits": "1234",
            "From": "+14158675309",
            "To": "+18005551212",
        }
    )
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(auth_token="12345", url=url, params=params) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_signature_with_repeated_parameters_sorts_their_values():
    params = QueryDict("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234")
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(auth_token="12345", url=url, params=params) == (
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )


@frozen
@pytest.mark.parametrize("signature", ["", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "forged"])
def test_a_bad_signature_is_refused_and_nothing_happens(client, signature):
    response = text(client, "STOP", signature=signature)
    assert response.status_code == 403
    assert not OptOut.objects.exists() and not InboundSms.objects.exists()


@frozen
def test_a_tampered_body_is_refused(client):
    qd = QueryDict(mutable=True)
    qd.update({"MessageSid": "SM1", "From": MARIA, "Body": "HELLO"})
    signature = twilio_signature(auth_token=TOKEN, url="http://testserver" + URL, params=qd)
    response = client.post(
        URL, {"MessageSid": "SM1", "From": MARIA, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert response.status_code == 403
    assert not OptOut.objects.exists()


def test_no_auth_token_configured_refuses_everything(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert text(client, "STOP", signature="anything").status_code == 403


def test_only_post_and_no_csrf_token_needed(client):
    assert client.get(URL).status_code == 405
    # The test client enforces CSRF only when asked; Twilio never sends a token.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert text(strict, "hello").status_code == 200


# --- Opting out ----------------------------------------------------------------------

STOP_VARIANTS = [
    "STOP",
    "stop",
    " Stop ",
    "STOP.",
    "stop!!",
    "Quit",
    "end",
    "CANCEL",
    "unsubscribe",
    "Revoke",
    "OPT OUT",
    "opt-out",
    "Opt out.",
    "\n  stopall \n",
]


@pytest.mark.parametrize("body", STOP_VARIANTS)
def test_stop_keywords_in_any_case_and_punctuation(body):
    assert sms_keyword(body) in {"STOP", "QUIT", "END", "CANCEL", "UNSUBSCRIBE", "REVOKE"} | {
        "OPT OUT",
        "STOPALL",
    }


@pytest.mark.parametrize("body", ["stop by Tuesday?", "don't stop", "the end of the rent hike"])
def test_a_sentence_containing_a_keyword_is_not_an_opt_out(client, body):
    with time_machine.travel(NOW, tick=False):
        assert text(client, body).status_code == 200
    assert not OptOut.objects.exists()
    assert InboundSms.objects.get().handled_as == InboundSms.Handling.OTHER


@frozen
@pytest.mark.parametrize("body", ["STOP", "opt-out", " Unsubscribe. "])
def test_stop_opts_out_everywhere_suppresses_pending_and_confirms_once(
    client, confirmed_meeting, sent_sms, body
):
    other_campaign = CampaignFactory(name="Northside Neighbors", slug="northside")
    elsewhere = ReminderFactory(campaign=other_campaign, to=MARIA, send_at=NOW + timedelta(days=2))

    assert text(client, body, sid="SM-stop-1").status_code == 200

    assert OptOut.objects.filter(address=MARIA).exists()
    pending = confirmed_meeting.reminders.exclude(step=Step.CONFIRM)
    assert set(pending.values_list("status", flat=True)) == {Reminder.Status.SUPPRESSED}
    elsewhere.refresh_from_db()
    assert elsewhere.status == Reminder.Status.SUPPRESSED
    send_pending()
    confirmation = sent_sms()[-1]
    assert confirmation == Sms(
        to=MARIA,
        body="the tenants' campaign: you're unsubscribed and will get no more texts from us.",
    )

    # A second STOP, or the same webhook delivered again, sends nothing more.
    text(client, "STOP", sid="SM-stop-2")
    text(client, body, sid="SM-stop-1")
    send_pending()
    assert len(sent_sms()) == 2  # the confirmation at the door, and one opt-out confirmation
    assert InboundSms.objects.count() == 2


@frozen
def test_after_stop_no_path_messages_that_number(client, confirmed_meeting, campaign, sent_sms):
    text(client, "STOP")
    send_pending()
    before = len(sent_sms())
    # A new commitment with the same number writes nothing to it…
    again = commitment_record(
        campaign=campaign,
        kind="meeting",
        what="Another meeting",
        when=MEETING,
        channel=Channel.SMS,
        phone=MARIA,
    )
    assert not again.reminders.filter(recipient_kind=Reminder.Recipient.PERSON).exists()
    # …and a row written by any other path is suppressed at send time.
    stray = ReminderFactory(campaign=CampaignFactory(), to=MARIA, send_at=NOW)
    assert reminder_send(reminder_id=stray.pk) == Reminder.Status.SUPPRESSED
    assert len(sent_sms()) == before


# --- HELP, YES, NO -------------------------------------------------------------------


def test_help_gets_a_help_reply_even_at_night(client, confirmed_meeting, sent_sms):
    with time_machine.travel(NOW.replace(hour=23, minute=30), tick=False):
        text(client, "help")
        send_pending()
    reply = sent_sms()[-1]
    assert reply.to == MARIA
    assert reply.body.startswith("the tenants' campaign: reminders about what you agreed to")
    assert "Reply STOP to opt out." in reply.body
    assert InboundSms.objects.get().handled_as == InboundSms.Handling.HELP
    assert not OptOut.objects.exists()


@frozen
@pytest.mark.parametrize("body", ["YES", "yes!", " Y "])
def test_yes_confirms_the_commitment(client, confirmed_meeting, sent_sms, body):
    text(client, body)
    send_pending()
    confirmed_meeting.refresh_from_db()
    assert confirmed_meeting.confirmed_at == NOW
    assert confirmed_meeting.status == Commitment.Status.OPEN
    assert sent_sms()[-1].body == (
        "Thanks Maria! See you Thursday Oct 17 at 7pm. — the tenants' campaign"
    )
    inbound = InboundSms.objects.get()
    assert (inbound.handled_as, inbound.commitment) == (InboundSms.Handling.YES, confirmed_meeting)


@frozen
def test_no_declines_and_cancels_pending_reminders(client, confirmed_meeting, sent_sms):
    text(client, "No.")
    send_pending()
    confirmed_meeting.refresh_from_db()
    assert confirmed_meeting.status == Commitment.Status.CANCELLED
    assert confirmed_meeting.declined_at == NOW
    later = confirmed_meeting.reminders.exclude(step__in=[Step.CONFIRM, Step.REPLY_NO])
    assert set(later.values_list("status", flat=True)) == {Reminder.Status.CANCELLED}
    assert sent_sms()[-1].body.startswith("Thanks for letting us know, Maria.")
    assert not OptOut.objects.exists()


@frozen
def test_yes_from_someone_never_asked_changes_nothing(client, campaign, sent_sms):
    text(client, "YES", sender="+15125550199")
    inbound = InboundSms.objects.get()
    assert inbound.handled_as == InboundSms.Handling.OTHER
    assert inbound.commitment is None
    assert not Reminder.objects.exists()


def test_help_is_answered_even_after_stop(client, confirmed_meeting, sent_sms):
    text(client, "STOP")
    text(client, "HELP")
    send_pending()
    stop_reply, help_reply = sent_sms()[-2:]
    assert "you're unsubscribed" in stop_reply.body
    assert "reminders about what you agreed to" in help_reply.body


def test_do_not_contact_people_get_no_reply_to_yes(client, confirmed_meeting, sent_sms):
    confirmed_meeting.person.do_not_contact = True
    confirmed_meeting.person.save()
    before = len(sent_sms())
    text(client, "YES")
    send_pending()
    assert len(sent_sms()) == before
    reply = Reminder.objects.get(step=Step.REPLY_YES)
    assert (reply.status, reply.last_error) == (Reminder.Status.SUPPRESSED, "Do not contact.")


def test_replies_written_in_the_same_instant_go_out_in_the_order_written(
    client, confirmed_meeting, sent_sms
):
    # Time stands still here, so both replies share one send_at. Touching the
    # first row moves it to the end of the table on PostgreSQL: only the id can
    # keep the STOP answer ahead of the HELP answer.
    text(client, "STOP")
    text(client, "HELP")
    stop_row = Reminder.objects.get(step=Step.REPLY_STOP)
    Reminder.objects.filter(pk=stop_row.pk).update(last_error="")
    assert [r.step for r in Reminder.objects.filter(to=MARIA, step__startswith="reply")] == [
        Step.REPLY_STOP,
        Step.REPLY_HELP,
    ]
    send_pending()
    stop_reply, help_reply = sent_sms()[-2:]
    assert "you're unsubscribed" in stop_reply.body
    assert "reminders about what you agreed to" in help_reply.body


# --- Bad input ------------------------------------------------------------------------


def signed(client, params):
    qd = QueryDict(mutable=True)
    qd.update(params)
    signature = twilio_signature(auth_token=TOKEN, url="http://testserver" + URL, params=qd)
    return client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


GOOD = {"MessageSid": "SM" + "1" * 32, "From": MARIA, "To": "+15125550000", "Body": "Hi"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("MessageSid", "SM" + "9" * 200, "MessageSid"),
        ("From", "+1" + "5" * 500, "From"),
        ("To", "+1" + "5" * 500, "To"),
        ("Body", "y" * 20_000, "Body"),
        ("MessageSid", "SM12\x0034", "MessageSid"),
        ("From", "+1512555\x000123", "From"),
        ("Body", "STOP\x00", "Body"),
    ],
)
def test_a_signed_text_with_an_over_long_or_nul_field_is_a_400_and_stores_nothing(
    client, campaign, field, value, message
):
    response = signed(client, {**GOOD, field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InboundSms.objects.exists()
    assert not OptOut.objects.exists() and not Reminder.objects.exists()
