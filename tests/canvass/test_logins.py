"""Logins: wrong passwords are throttled by account and by address, organizers unlock,
passwords are reset by email, and a campaign can require an authenticator app."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from canvass.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOME, ELSEWHERE = "203.0.113.7", "198.51.100.9"


def log_in(client, username, password, address=HOME):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(response):
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def test_wrong_passwords_lock_the_account_with_a_clear_message(client, organizer, settings):
    answers = [log_in(client, "olivia", "wrong").status_code for _ in range(10)]
    limit = settings.AXES_FAILURE_LIMIT
    # Each wrong password until the limit is checked; from the limit on, none is.
    assert answers == [200] * (limit - 1) + [429] * (10 - limit + 1)
    refused = log_in(client, "olivia", PASSWORD)
    assert refused.status_code == 429
    assert "Too many wrong passwords" in refused.content.decode()
    assert not refused.wsgi_request.user.is_authenticated
    # By account: another address is refused too; by address: so is another account here.
    assert log_in(client, "olivia", PASSWORD, address=ELSEWHERE).status_code == 429


def test_the_address_is_locked_for_other_accounts_too(client, organizer, field_lead, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "olivia", "wrong")
    assert log_in(client, "farid", PASSWORD).status_code == 429
    assert logged_in(log_in(client, "farid", PASSWORD, address=ELSEWHERE))


def test_an_organizer_unlocks_a_member(client, campaign, organizer, field_lead, outsider, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "farid", "wrong", address=ELSEWHERE)
    assert log_in(client, "farid", PASSWORD, address=ELSEWHERE).status_code == 429
    membership = field_lead.memberships.get()
    unlock = reverse("membership_unlock", args=[campaign.slug, membership.pk])

    client.force_login(outsider)
    assert client.post(unlock).status_code == 404
    client.force_login(organizer)
    page = client.get(reverse("campaign_security", args=[campaign.slug]))
    assert "locked out" in page.content.decode()
    assert client.post(unlock).status_code == 302
    client.logout()
    assert logged_in(log_in(client, "farid", PASSWORD, address=ELSEWHERE))
    assert AuditEvent.objects.filter(action="login.unlock", actor=organizer).exists()


def test_a_field_lead_cannot_unlock(client, campaign, field_lead, organizer):
    client.force_login(field_lead)
    unlock = reverse("membership_unlock", args=[campaign.slug, organizer.memberships.get().pk])
    assert client.post(unlock).status_code == 403


def test_a_password_is_reset_by_email(client, organizer):
    response = client.post(reverse("password_reset"), {"email": organizer.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    new = "a-brand-new-long-passphrase"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    client.logout()
    assert logged_in(log_in(client, "olivia", new))
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]


def test_an_unknown_email_looks_the_same_and_sends_nothing(client, organizer):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def _code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_a_campaign_requiring_two_factor_asks_its_organizers_for_a_code(
    client, campaign, organizer
):
    campaign.require_two_factor = True
    campaign.save()
    client.force_login(organizer)
    dashboard = reverse("campaign_dashboard", args=[campaign.slug])
    asked = client.get(dashboard)
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("two_factor"))

    setup = client.get(asked["Location"])
    assert setup.status_code == 200 and "<svg" in setup.content.decode()
    device = TOTPDevice.objects.get(user=organizer)
    assert not device.confirmed
    wrong = client.post(asked["Location"], {"token": "000000", "next": dashboard})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    # The wrong code slowed further guesses down for a second: let that pass.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    right = client.post(asked["Location"], {"token": _code(device), "next": dashboard})
    assert right.status_code == 302 and right["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    # A new login asks again, now without the set-up code.
    client.logout()
    client.force_login(get_user_model().objects.get(pk=organizer.pk))
    again = client.get(dashboard)
    assert again.status_code == 302
    page = client.get(again["Location"]).content.decode()
    assert "<svg" not in page and "Confirm it" in page


def test_without_the_setting_no_code_is_asked(client, campaign, organizer):
    client.force_login(organizer)
    assert client.get(reverse("campaign_dashboard", args=[campaign.slug])).status_code == 200
