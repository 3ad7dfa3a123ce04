"""Fifty people take the last five spots at the same moment, on PostgreSQL.

Each thread is one phone posting the public signup form, on its own database
connection; a barrier lets them all go at once. The shift's row lock is what makes
the count exact: five signed up, forty-five on the waitlist, none lost, none twice.
"""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from canvass import services
from canvass.models import ShiftSignup, Volunteer
from tests.factories import ShiftFactory, ShiftSignupFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = ShiftSignup.Status
PEOPLE = 50


def _at_once(count, work):
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n):
        try:
            barrier.wait(timeout=60)
            results[n] = work(n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_fifty_signups_for_the_last_five_spots(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=20)
    for _ in range(15):
        ShiftSignupFactory(shift=shift)
    url = reverse("signup_shift", args=[campaign.slug, shift.pk])

    def sign_up(n):
        response = Client().post(
            url,
            {
                "first_name": f"Neighbor{n}",
                "phone": f"+151255501{n:02d}",
                "email": f"neighbor{n}@example.org",
                "language": "en",
            },
        )
        return response.status_code

    statuses = _at_once(PEOPLE, sign_up)

    assert statuses == [302] * PEOPLE
    new = ShiftSignup.objects.filter(shift=shift, volunteer__first_name__startswith="Neighbor")
    assert new.count() == PEOPLE
    assert new.filter(status=Status.SIGNED_UP).count() == 5
    assert new.filter(status=Status.WAITLISTED).count() == 45
    assert shift.signups.holding().count() == 20
    assert Volunteer.objects.filter(first_name__startswith="Neighbor").count() == PEOPLE


def test_cancellations_at_once_promote_each_waiting_person_once(campaign):
    shift = ShiftFactory(campaign=campaign, capacity=10)
    held = [ShiftSignupFactory(shift=shift) for _ in range(10)]
    waiting = [ShiftSignupFactory(shift=shift) for _ in range(6)]

    _at_once(6, lambda n: services.signup_cancel(signup=held[n]))

    statuses = [ShiftSignup.objects.get(pk=s.pk).status for s in waiting]
    assert statuses == [Status.SIGNED_UP] * 6
    assert shift.signups.holding().count() == 10


def test_the_same_person_twice_at_once_is_one_volunteer_and_one_signup(campaign):
    shift = ShiftFactory(campaign=campaign)

    def sign_up(n):
        return services.signup_public(shift=shift, first_name="Dana", phone="512-555-0142")

    results = _at_once(8, sign_up)

    assert Volunteer.objects.count() == 1 and ShiftSignup.objects.count() == 1
    assert sum(1 for _, token, _ in results if token) == 1
