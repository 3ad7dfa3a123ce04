"""Showing an assignment link again and sending it to the volunteer through the outbox."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from canvass.models import AuditEvent
from conversations.models import OptOut, Reminder
from conversations.services.delivery import reminder_send
from tests.factories import PASSWORD, TurfFactory, VolunteerFactory
from turf.models import Assignment, hash_token
from turf.services import assignment_create, assignment_link, assignment_link_send

pytestmark = pytest.mark.django_db

KEY = "0123456789abcdef0123456789abcdef"


def as_user(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def show_url(assignment):
    return reverse("assignment_link", args=[assignment.turf.campaign.slug, assignment.pk])


def send_url(assignment):
    return reverse("assignment_link_send", args=[assignment.turf.campaign.slug, assignment.pk])


def test_the_link_can_be_derived_again_and_only_its_hash_and_salt_are_stored(assignment):
    made, token = assignment
    stored = Assignment.objects.get(pk=made.pk)
    assert stored.token_hash == hash_token(token) and token not in stored.link_salt
    assert stored.link_token() == token


def test_a_changed_secret_key_means_the_link_cannot_be_shown_again(assignment, settings):
    made, _ = assignment
    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert Assignment.objects.get(pk=made.pk).link_token() is None


def test_a_token_given_from_outside_is_shown_once_only(campaign, volunteer):
    made, token = assignment_create(
        turf=TurfFactory(campaign=campaign), volunteers=[volunteer], token="demo-token-123456"
    )
    assert token == "demo-token-123456" and made.link_token() is None


def test_organizer_sees_the_link_and_qr_again_later(client, organizer, assignment):
    made, token = assignment
    detail = reverse("turf_detail", args=[made.turf.campaign.slug, made.turf_id])
    client = as_user(client, organizer)
    assert show_url(made) in client.get(detail).content.decode()

    response = client.get(show_url(made))

    page = response.content.decode()
    assert response.status_code == 200 and assignment_link(token) in page
    assert 'id="assignment-qr"' in page and "<svg" in page
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="assignment.link_show", actor=organizer).exists()


def test_a_field_lead_or_another_campaign_cannot_see_the_link(
    client, field_lead, outsider, assignment
):
    made, _ = assignment
    assert as_user(client, field_lead).get(show_url(made)).status_code == 403
    client.logout()
    assert as_user(client, outsider).get(show_url(made)).status_code == 404


def test_an_ended_link_is_not_shown_again(client, organizer, assignment):
    from turf.services import assignment_revoke

    made, token = assignment
    assignment_revoke(assignment=made)
    response = as_user(client, organizer).get(show_url(made), follow=True)
    page = response.content.decode()
    assert assignment_link(token) not in page and "cannot be shown again" in page


# Noon in the campaign's Austin: outside quiet hours.
@time_machine.travel(datetime(2026, 12, 3, 18, 0, tzinfo=UTC), tick=True)
def test_send_the_link_by_text_through_the_outbox(
    client, organizer, assignment, volunteer, sent_sms
):
    made, token = assignment
    client = as_user(client, organizer)
    page = client.get(show_url(made)).content.decode()
    request_key = re.search(r'name="request_key" value="([0-9a-f]{32})"', page).group(1)
    form = {"volunteer": volunteer.pk, "channel": "sms", "request_key": request_key}

    response = client.post(send_url(made), form, follow=True)
    client.post(send_url(made), form)  # a double click is one message

    assert "The link is being texted to Vera Lopez" in response.content.decode()
    reminder = Reminder.objects.get()
    assert reminder.to == "+15125550101" and reminder.commitment is None
    assert assignment_link(token) in reminder.body and "Reply STOP" in reminder.body
    reminder_send(reminder_id=reminder.pk)  # what the worker does with it
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert [m.to for m in sent_sms()] == ["+15125550101"]
    assert assignment_link(token) in sent_sms()[0].body
    assert AuditEvent.objects.filter(action="assignment.link_send").count() == 1
    page = client.get(show_url(made)).content.decode()
    assert 'id="link-sent"' in page and "Sent" in page


@time_machine.travel(datetime(2026, 12, 3, 18, 0, tzinfo=UTC), tick=True)
def test_send_by_email(assignment, volunteer, mailoutbox):
    made, token = assignment
    volunteer.email = "vera@example.org"
    volunteer.save()
    reminder, held = assignment_link_send(
        assignment=made, volunteer=volunteer, channel="email", request_key=KEY
    )
    reminder_send(reminder_id=reminder.pk)
    assert [m.to for m in mailoutbox] == [["vera@example.org"]]
    assert mailoutbox[0].subject == "Your walk list: Maple blocks"
    assert assignment_link(token) in mailoutbox[0].body


def test_quiet_hours_hold_the_text_until_morning(campaign, assignment, volunteer, sent_sms):
    made, _ = assignment
    # 23:30 in Austin (UTC−5 in October): quiet until 08:00.
    late = datetime(2026, 10, 6, 4, 30, tzinfo=UTC)
    made.expires_at = datetime(2026, 10, 7, tzinfo=UTC)
    made.save()
    with time_machine.travel(late, tick=False):
        reminder, held = assignment_link_send(
            assignment=made, volunteer=volunteer, channel="sms", request_key=KEY
        )
        assert held is not None and held.hour == 8
        reminder_send(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING and sent_sms() == []


def test_an_opted_out_volunteer_is_not_texted(assignment, volunteer):
    made, _ = assignment
    OptOut.objects.create(address="+15125550101")
    with pytest.raises(ValidationError, match="opted out"):
        assignment_link_send(assignment=made, volunteer=volunteer, channel="sms", request_key=KEY)
    assert not Reminder.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "pigeon"}, "by text or by email"),
        ({"request_key": "nope"}, "Reload the page"),
        ({"channel": "email"}, "has no email address"),
    ],
)
def test_bad_sends_are_refused_with_the_reason(assignment, volunteer, change, message):
    made, _ = assignment
    args = {"channel": "sms", "request_key": KEY, **change}
    with pytest.raises(ValidationError, match=message):
        assignment_link_send(assignment=made, volunteer=volunteer, **args)
    assert not Reminder.objects.exists()


def test_only_the_assignments_volunteers_get_its_link(client, organizer, campaign, assignment):
    made, _ = assignment
    stranger = VolunteerFactory(campaign=campaign, phone="+15125550199")
    with pytest.raises(ValidationError, match="not on this assignment"):
        assignment_link_send(assignment=made, volunteer=stranger, channel="sms", request_key=KEY)
    response = as_user(client, organizer).post(
        send_url(made),
        {"volunteer": stranger.pk, "channel": "sms", "request_key": KEY},
        follow=True,
    )
    assert "Pick one of the assignment" in response.content.decode()
    assert not Reminder.objects.exists()


@override_settings(SITE_URL="https://porchlight.example.org")
def test_a_link_made_to_be_shown_once_cannot_be_sent(campaign, volunteer):
    made, _ = assignment_create(
        turf=TurfFactory(campaign=campaign), volunteers=[volunteer], token="given-token-abcdef"
    )
    with pytest.raises(ValidationError, match="Make a new link"):
        assignment_link_send(assignment=made, volunteer=volunteer, channel="sms", request_key=KEY)
