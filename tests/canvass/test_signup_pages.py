"""The public signup page and the personal link, through the test client."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from canvass import services
from canvass.models import ShiftSignup, Volunteer
from tests.factories import ShiftFactory, ShiftSignupFactory

pytestmark = pytest.mark.django_db
Status = ShiftSignup.Status


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def signup_data(**extra):
    data = {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "phone": "512-555-0142",
        "email": "",
        "language": "en",
        "remind_by_sms": "on",
    }
    data.update(extra)
    return data


def token_of(response):
    return response["Location"].split("/s/")[1].split("/")[0]


def test_the_page_lists_upcoming_public_shifts_with_their_free_spots(client, campaign):
    open_shift = ShiftFactory(campaign=campaign, name="Saturday canvass", capacity=3)
    full = ShiftFactory(campaign=campaign, name="Tiny table", capacity=1)
    ShiftSignupFactory(shift=open_shift)
    ShiftSignupFactory(shift=full)
    hidden = [
        ShiftFactory(campaign=campaign, name="Internal training", public=False),
        ShiftFactory(
            campaign=campaign, name="Already going", starts_at=timezone.now() - timedelta(hours=1)
        ),
    ]
    cancelled = ShiftFactory(campaign=campaign, name="Rained out")
    services.shift_cancel(shift=cancelled)

    body = text(client.get(reverse("signup_page", args=[campaign.slug])))
    assert "Saturday canvass" in body and "2 spots left" in body
    assert "Tiny table" in body and "Full: join the waitlist" in body
    for shift in [*hidden, cancelled]:
        assert shift.name not in body


def test_the_page_costs_the_same_queries_for_3_or_30_shifts(client, campaign):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("signup_page", args=[campaign.slug])).status_code == 200
        return len(queries)

    for _ in range(3):
        ShiftSignupFactory(shift=ShiftFactory(campaign=campaign))
    few = count()
    for _ in range(27):
        ShiftSignupFactory(shift=ShiftFactory(campaign=campaign))
    assert count() == few <= 3


def test_a_good_signup_lands_on_the_personal_link(client, campaign):
    shift = ShiftFactory(campaign=campaign, name="Saturday canvass")
    response = client.post(reverse("signup_shift", args=[campaign.slug, shift.pk]), signup_data())
    assert response.status_code == 302
    token = token_of(response)
    signup = ShiftSignup.objects.for_token(token).get()
    assert signup.status == Status.SIGNED_UP and signup.remind_by_sms
    assert signup.volunteer.phone == "+15125550142"

    page = client.get(response["Location"])
    body = text(page)
    assert "You are signed up" in body and "Saturday canvass" in body
    assert f"/s/{token}/" in body  # they see the link to keep
    assert page["Cache-Control"].startswith("max-age=0")


def test_a_bad_phone_is_named_inline_and_nothing_typed_is_lost(client, campaign):
    shift = ShiftFactory(campaign=campaign)
    response = client.post(
        reverse("signup_shift", args=[campaign.slug, shift.pk]),
        signup_data(phone="555-01", email="dana@example.org"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "is not a valid phone number" in text(response)
    assert 'aria-invalid="true"' in body and 'id="id_phone-error"' in body
    assert 'value="Whitfield"' in body and 'value="dana@example.org"' in body
    assert not Volunteer.objects.exists() and not ShiftSignup.objects.exists()


def test_the_same_phone_again_is_the_same_volunteer(client, campaign):
    first, second = ShiftFactory(campaign=campaign), ShiftFactory(campaign=campaign)
    client.post(reverse("signup_shift", args=[campaign.slug, first.pk]), signup_data())
    response = client.post(
        reverse("signup_shift", args=[campaign.slug, second.pk]),
        signup_data(first_name="Dana", phone="(512) 555 0142"),
    )
    assert "back=1" in response["Location"]
    assert Volunteer.objects.count() == 1 and ShiftSignup.objects.count() == 2
    # The same shift twice: recognised, no second signup, no link handed out.
    again = client.post(reverse("signup_shift", args=[campaign.slug, first.pk]), signup_data())
    assert again.status_code == 200 and "already on this shift" in text(again)
    assert ShiftSignup.objects.count() == 2


def test_typing_someone_elses_number_does_not_reveal_their_name(client, campaign):
    first, second = ShiftFactory(campaign=campaign), ShiftFactory(campaign=campaign)
    client.post(reverse("signup_shift", args=[campaign.slug, first.pk]), signup_data())
    stranger = client.post(
        reverse("signup_shift", args=[campaign.slug, second.pk]),
        signup_data(first_name="Eve", last_name="Stone"),
    )
    page = text(client.get(stranger["Location"]))
    assert "Welcome back" in page and "You are signed up" in page
    # Recognised by the phone, but the page shows nothing of what Dana gave.
    assert "Dana" not in page and "Whitfield" not in page and "555" not in page
    assert Volunteer.objects.get().first_name == "Dana"


def test_a_full_shift_takes_a_waitlist_place(client, campaign):
    shift = ShiftFactory(campaign=campaign, capacity=1)
    ShiftSignupFactory(shift=shift)
    form = client.get(reverse("signup_shift", args=[campaign.slug, shift.pk]))
    assert "Join the waitlist" in text(form)
    response = client.post(reverse("signup_shift", args=[campaign.slug, shift.pk]), signup_data())
    page = text(client.get(response["Location"]))
    assert "You are on the waitlist" in page and "number 1 on the waitlist" in page


@pytest.mark.parametrize("state", ["cancelled", "started"])
def test_a_cancelled_or_started_shift_says_so_and_takes_no_signup(client, campaign, state):
    shift = ShiftFactory(campaign=campaign)
    if state == "cancelled":
        services.shift_cancel(shift=shift)
        words = "This shift was cancelled"
    else:
        shift.starts_at = timezone.now() - timedelta(minutes=5)
        shift.save()
        words = "already started"
    url = reverse("signup_shift", args=[campaign.slug, shift.pk])
    assert words in text(client.get(url))
    response = client.post(url, signup_data())
    assert response.status_code == 410 and words in text(response)
    assert not ShiftSignup.objects.exists() and not Volunteer.objects.exists()


def _signed_up(client, campaign, **shift_fields):
    shift = ShiftFactory(campaign=campaign, **shift_fields)
    response = client.post(reverse("signup_shift", args=[campaign.slug, shift.pk]), signup_data())
    token = token_of(response)
    return shift, token, reverse("signup_manage", args=[token])


def test_the_personal_link_confirms_changes_reminders_and_cancels(client, campaign):
    shift, token, url = _signed_up(client, campaign, capacity=1)
    waiting = ShiftSignupFactory(shift=shift)

    client.post(url, {"action": "confirm"})
    signup = ShiftSignup.objects.for_token(token).get()
    assert signup.status == Status.CONFIRMED and signup.confirmed_at

    response = client.post(
        url, {"action": "preferences", "remind_by_email": "on", "language": "es"}
    )
    assert response.status_code == 400 and "need an email address" in text(response)
    assert ShiftSignup.objects.get(pk=signup.pk).remind_by_sms is True
    client.post(url, {"action": "preferences", "language": "es"})
    signup.refresh_from_db()
    assert not signup.remind_by_sms and signup.volunteer.language == "es"

    client.post(url, {"action": "cancel"})
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.CANCELLED
    waiting.refresh_from_db()
    assert waiting.status == Status.SIGNED_UP and waiting.promoted_at is not None
    page = text(client.get(url))
    assert "Sign me up again" in page

    client.post(url, {"action": "rejoin"})
    assert ShiftSignup.objects.for_token(token).get().status == Status.WAITLISTED


def test_the_personal_link_moves_the_signup_to_another_shift(client, campaign):
    shift, token, url = _signed_up(client, campaign, name="Saturday canvass", capacity=1)
    waiting = ShiftSignupFactory(shift=shift)
    later = ShiftFactory(campaign=campaign, name="Sunday canvass", capacity=1)
    ShiftFactory(campaign=campaign, name="Staff only", public=False)
    page = text(client.get(url))
    assert "Move my signup" in page and "Sunday canvass" in page
    assert "Staff only" not in page

    bad = client.post(url, {"action": "move", "shift": "999999"})
    assert bad.status_code == 400 and "Pick one of the shifts listed" in text(bad)
    assert ShiftSignup.objects.for_token(token).get().status == Status.SIGNED_UP

    response = client.post(url, {"action": "move", "shift": later.pk})
    assert response.status_code == 302 and "moved=1" in response["Location"]
    moved = ShiftSignup.objects.for_token(token_of(response)).get()
    assert moved.shift == later and moved.status == Status.SIGNED_UP and moved.remind_by_sms
    assert "You moved to this shift" in text(client.get(response["Location"]))
    old = ShiftSignup.objects.for_token(token).get()
    assert old.status == Status.CANCELLED
    waiting.refresh_from_db()
    assert waiting.status == Status.SIGNED_UP  # the spot left went to the waitlist
    # The old link no longer offers to move: the signup it holds is cancelled.
    assert "Move my signup" not in text(client.get(url))


def test_an_ended_revoked_or_unknown_link_says_so_and_changes_nothing(client, campaign):
    shift, token, url = _signed_up(client, campaign)
    signup = ShiftSignup.objects.for_token(token).get()

    services.signup_link_revoke(signup=signup)
    response = client.post(url, {"action": "cancel"})
    assert response.status_code == 410 and "This link was turned off" in text(response)
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.SIGNED_UP

    services.signup_link_reissue(signup=signup)
    fresh = services.signup_link_token(ShiftSignup.objects.get(pk=signup.pk))
    ShiftSignup.objects.filter(pk=signup.pk).update(link_revoked_at=None)
    shift.starts_at, shift.ends_at = (
        timezone.now() - timedelta(hours=4),
        timezone.now() - timedelta(hours=1),
    )
    shift.save()
    response = client.post(reverse("signup_manage", args=[fresh]), {"action": "cancel"})
    assert response.status_code == 410 and "This shift is over" in text(response)
    assert ShiftSignup.objects.get(pk=signup.pk).status == Status.SIGNED_UP

    response = client.get(reverse("signup_manage", args=["not-a-real-token"]))
    assert response.status_code == 404 and "This link is not known" in text(response)


def test_the_pages_speak_spanish_when_asked(client, campaign):
    shift = ShiftFactory(campaign=campaign)
    url = reverse("signup_shift", args=[campaign.slug, shift.pk])
    switched = client.get(url + "?lang=es")
    assert switched.status_code == 302 and switched.cookies["django_language"].value == "es"
    page = client.get(url)
    assert '<html lang="es">' in page.content.decode()
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="es").context["language"] == "es"


def test_the_signup_and_personal_link_pages_are_in_spanish(client, campaign):
    shift = ShiftFactory(campaign=campaign, name="Saturday canvass", capacity=1)
    client.cookies["django_language"] = "es"
    listing = text(client.get(reverse("signup_page", args=[campaign.slug])))
    assert "Elija un turno e inscríbase en un minuto" in listing
    assert "1 lugar libre" in listing
    form = text(client.get(reverse("signup_shift", args=[campaign.slug, shift.pk])))
    assert "Inscribirme" in form and "Teléfono móvil" in form
    bad = text(
        client.post(
            reverse("signup_shift", args=[campaign.slug, shift.pk]),
            signup_data(phone="", email=""),
        )
    )
    assert "Corrija lo que está marcado abajo" in bad
    assert "Dé un número de teléfono o un correo electrónico" in bad
    response = client.post(
        reverse("signup_shift", args=[campaign.slug, shift.pk]), signup_data(language="es")
    )
    manage = text(client.get(response["Location"]))
    assert "Ya está inscrito. ¡Gracias!" in manage and "Allí estaré" in manage
    assert "No puedo ir: cancelar" in manage
